"""Content: message types' templates in the database, the loader that serves them, the sandbox they render in,
import/export and the editor's forms and widgets."""
