/* CKEditor settings for ACE email templates that JSON (CKEDITOR_CONFIGS) cannot express.
   Django template syntax is kept out of the editor's HTML parser, so {% for %} between table rows,
   {% if %} around attributes or {# comments #} come back exactly as they were typed. */
CKEDITOR.editorConfig = function (config) {
  config.protectedSource.push(/\{%[\s\S]*?%\}/g);
  config.protectedSource.push(/\{\{[\s\S]*?\}\}/g);
  config.protectedSource.push(/\{#[\s\S]*?#\}/g);
};
