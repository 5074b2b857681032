/* The template editor (ace_admin.content.widgets.TemplateEditor): CodeMirror for source, CKEditor for the
 * fragments the server marked visual, a merge-tag picker for both, and the switch between them.
 *
 * The source textarea is what is posted unless the visual editor is live (the hidden __mode input says
 * which); CodeMirror writes its text back to the textarea on submit. The visual editor posts its HTML and,
 * in __initial, its own serialisation at load: the server merges the difference into the source and checks
 * every template construct survived (ace_admin/content/editors.py). Without JavaScript nothing here runs and
 * the plain textarea round-trips. */
(function () {
  "use strict";

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  /* A chip for a merge tag, the same markup the server gives (editors._chip). */
  function chipHtml(insert) {
    var label = insert.replace(/^\{\{\s*|\s*\}\}$/g, "").replace(/^\{%\s*|\s*%\}$/g, "");
    var kind = insert.indexOf("{%") === 0 ? "ace-tag ace-tag-block" : "ace-tag";
    return '<span class="' + kind + '" data-ace-src="' + escapeHtml(insert) + '">' + escapeHtml(label) + "</span>";
  }

  if (window.CKEDITOR && !CKEDITOR.plugins.get("acetags")) {
    CKEDITOR.plugins.add("acetags", {
      requires: "widget",
      init: function (editor) {
        // A merge tag (or an included snippet) is one non-editable chip: it is deleted or kept whole.
        editor.widgets.add("acetag", {
          upcast: function (element) { return element.name === "span" && element.hasClass("ace-tag"); }
        });
      }
    });
  }

  function errorLine(root) {
    var row = root.closest(".form-row, .fieldBox, fieldset") || document;
    var list = row.querySelector(".errorlist");
    var match = list && /Line (\d+)/.exec(list.textContent);
    return match ? Number(match[1]) : null;
  }

  function setUp(root) {
    if (root.getAttribute("data-ace-ready")) { return; }
    root.setAttribute("data-ace-ready", "1");
    var source = root.querySelector("textarea.ace-source-text");
    var modeInput = root.querySelector("input.ace-mode");
    var visualArea = root.querySelector("textarea.ace-visual-text");
    var initialInput = root.querySelector("input.ace-initial");
    var bar = root.querySelector(".ace-editor-bar");
    var label = root.querySelector(".ace-editor-label");
    var toSource = root.querySelector(".ace-to-source");
    var toVisual = root.querySelector(".ace-to-visual");
    var picker = root.querySelector(".ace-picker");
    var html = root.getAttribute("data-ace-html") === "1";
    var original = source.value;
    var cm = null, ck = null, mode = "source";
    bar.hidden = false;

    function showSource() {
      mode = "source";
      modeInput.value = "source";
      if (ck) { ck.container.hide(); }
      if (window.CodeMirror && !cm) {
        cm = CodeMirror.fromTextArea(source, {
          mode: html ? "django" : "django:inner", lineNumbers: true, lineWrapping: true,
          viewportMargin: Infinity, gutters: ["CodeMirror-linenumbers", "ace-error-gutter"]
        });
        var line = errorLine(root);
        if (line && line <= cm.lineCount()) {
          cm.addLineClass(line - 1, "wrap", "ace-error-line");
          var marker = document.createElement("span");
          marker.className = "ace-error-marker";
          marker.textContent = "●";
          marker.title = "The error is on this line";
          cm.setGutterMarker(line - 1, "ace-error-gutter", marker);
          cm.scrollIntoView({line: line - 1, ch: 0});
        }
      }
      if (cm) { cm.getWrapperElement().style.display = ""; cm.refresh(); } else { source.hidden = false; }
      label.textContent = "Source editor";
      toSource.hidden = true;
      toVisual.hidden = !visualArea;
    }

    function showVisual() {
      if (cm) { cm.save(); }
      if (source.value.replace(/\r\n/g, "\n") !== original.replace(/\r\n/g, "\n")) {
        window.alert("The visual editor opens the saved template: save your source changes first.");
        return;
      }
      mode = "visual";
      if (cm) { cm.getWrapperElement().style.display = "none"; } else { source.hidden = true; }
      label.textContent = "Visual editor";
      toSource.hidden = false;
      toVisual.hidden = true;
      if (ck) { ck.container.show(); modeInput.value = "visual"; return; }
      ck = CKEDITOR.replace(visualArea, JSON.parse(visualArea.getAttribute("data-config")));
      // Image uploads (the Image dialog's Upload tab) are admin POSTs: they carry the page's CSRF token.
      ck.on("fileUploadRequest", function (evt) {
        var token = document.querySelector("input[name=csrfmiddlewaretoken]");
        if (token) { evt.data.fileLoader.xhr.setRequestHeader("X-CSRFToken", token.value); }
      });
      ck.on("instanceReady", function () {
        initialInput.value = ck.getData();
        modeInput.value = "visual";
        root.setAttribute("data-ace-visual-ready", "1");
      });
    }

    // For tests and other scripts: the live editors of this field.
    root.aceEditor = {
      mode: function () { return mode; },
      codemirror: function () { return cm; },
      ckeditor: function () { return ck; }
    };

    toSource.addEventListener("click", function () {
      if (ck && ck.getData() !== initialInput.value &&
          !window.confirm("Leave the visual editor? Changes made there are discarded.")) { return; }
      if (ck) { ck.setData(visualArea.value, {callback: function () { ck.resetDirty(); }}); }
      showSource();
    });
    toVisual.addEventListener("click", showVisual);
    if (picker) {
      picker.addEventListener("change", function () {
        var insert = picker.value;
        picker.value = "";
        if (!insert) { return; }
        if (mode === "visual" && ck) {
          ck.focus();
          ck.insertHtml(chipHtml(insert));
        } else if (cm) {
          cm.replaceSelection(insert);
          cm.focus();
        } else {
          var start = source.selectionStart, end = source.selectionEnd;
          source.value = source.value.slice(0, start) + insert + source.value.slice(end);
          source.selectionStart = source.selectionEnd = start + insert.length;
          source.focus();
        }
      });
    }
    if (root.getAttribute("data-ace-mode") === "visual" && visualArea && window.CKEDITOR && errorLine(root) === null) {
      showVisual();
    } else {
      showSource();
    }
  }

  function setUpAll() {
    var roots = document.querySelectorAll(".ace-editor"), i;
    for (i = 0; i < roots.length; i += 1) {
      // The inline formset's blank form is a template for "Add another": set up only when it is copied.
      if (!roots[i].closest(".empty-form")) { setUp(roots[i]); }
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUpAll); }
  else { setUpAll(); }
  document.addEventListener("formset:added", setUpAll);
}());
