"""Preview: rendering a template with sample data, the preview pages, their CSP, test sends."""
