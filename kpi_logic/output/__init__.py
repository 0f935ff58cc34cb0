"""What people read: numbers and statuses as text, Altair charts and the PNG
reports."""
