"""Streamlit-side helpers shared by the pages (state, data loading, widgets, formatting)."""
