"""What people read: numbers and statuses as text, Altair charts, the PNG
reports, and tables as CSV and XLSX downloads."""
