/* Lets CKEditor 4 work under ACE's Content-Security-Policy (script-src 'self', no 'unsafe-inline').
 *
 * CKEditor 4 builds its toolbar, combos, panels and element path as HTML strings whose buttons carry inline
 * handlers such as onclick="CKEDITOR.tools.callFunction(15,this);return false;" and href="javascript:void(...)".
 * The policy blocks every inline handler, so the editor would load but none of its buttons would work.
 * This file, loaded from the site's own static files, turns each such handler into an addEventListener call
 * (parking it under a data- attribute before the browser parses CKEditor's markup, so nothing is even
 * reported as blocked), and does what the editing frame's inline "frame ready" script would have done.
 *
 * Only handlers of exactly that shape are converted (a call to CKEDITOR.tools.callFunction with numbers,
 * quoted strings, `this` or `event` as arguments, optionally `return false`), and never inside the edited
 * content: a template's own onerror= or <script> stays blocked by the policy.
 */
(function () {
  "use strict";
  if (!window.CKEDITOR) { return; }

  var CALL = /^(return\s+)?(?:window\.parent\.)?CKEDITOR\.tools\.callFunction\(([^()]*)\)$/;
  var LEFT_BUTTON = /^CKEDITOR\.tools\.getMouseButton\(event\)\s*===?\s*CKEDITOR\.MOUSE_BUTTON_LEFT\s*&&\s*/;
  var RETURN_FALSE = /^return\s+false$/;
  var NO_OP = /^this\.style\.cssText\s*=\s*this\.style\.cssText$/; // an old-IE repaint hack
  var ARG = /^\s*(?:(-?\d+(?:\.\d+)?)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(this)|(event))\s*$/;

  /* Split on `sep` outside quotes and parentheses. */
  function split(text, sep) {
    var parts = [], current = "", quote = null, depth = 0, i, ch;
    for (i = 0; i < text.length; i += 1) {
      ch = text.charAt(i);
      if (quote) {
        current += ch;
        if (ch === "\\" && i + 1 < text.length) { current += text.charAt(i + 1); i += 1; }
        else if (ch === quote) { quote = null; }
      } else if (ch === "'" || ch === '"') { quote = ch; current += ch; }
      else if (ch === "(") { depth += 1; current += ch; }
      else if (ch === ")") { depth -= 1; current += ch; }
      else if (ch === sep && depth === 0) { parts.push(current); current = ""; }
      else { current += ch; }
    }
    parts.push(current);
    return parts;
  }

  function compileCall(match) {
    var parts = match[2].trim() === "" ? [] : split(match[2], ","), getters = [], i, arg;
    for (i = 0; i < parts.length; i += 1) {
      arg = ARG.exec(parts[i]);
      if (!arg) { return null; }
      if (arg[1] !== undefined) { getters.push((function (n) { return function () { return n; }; }(Number(arg[1])))); }
      else if (arg[2] !== undefined || arg[3] !== undefined) {
        getters.push((function (s) { return function () { return s; }; }(
          (arg[2] !== undefined ? arg[2] : arg[3]).replace(/\\(.)/g, "$1"))));
      }
      else if (arg[4]) { getters.push(function (el) { return el; }); }
      else { getters.push(function (el, ev) { return ev; }); }
    }
    return function (el, ev) {
      return CKEDITOR.tools.callFunction.apply(CKEDITOR.tools, getters.map(function (get) { return get(el, ev); }));
    };
  }

  /* A compiled handler, or null when the text is not made only of the statements CKEditor generates. */
  function compile(code) {
    var statements = split(code || "", ";").map(function (s) { return s.trim(); }).filter(Boolean), steps = [], i;
    if (!statements.length) { return null; }
    for (i = 0; i < statements.length; i += 1) {
      var text = statements[i], leftOnly = false, match;
      if (RETURN_FALSE.test(text)) { steps.push({returnFalse: true}); continue; }
      if (NO_OP.test(text)) { continue; }
      if (LEFT_BUTTON.test(text)) { leftOnly = true; text = text.replace(LEFT_BUTTON, ""); }
      match = CALL.exec(text);
      if (!match) { return null; }
      var call = compileCall(match);
      if (!call) { return null; }
      steps.push({call: call, returns: Boolean(match[1]), leftOnly: leftOnly});
    }
    return function (el, ev) {
      for (var j = 0; j < steps.length; j += 1) {
        var step = steps[j];
        if (step.returnFalse) { return false; }
        if (step.leftOnly && CKEDITOR.tools.getMouseButton(ev) !== CKEDITOR.MOUSE_BUTTON_LEFT) { continue; }
        var result = step.call(el, ev);
        if (step.returns) { return result; }
      }
      return undefined;
    };
  }

  function inEditedContent(el) {
    return Boolean(el.closest && el.closest(".cke_editable, [contenteditable=true]"));
  }

  var PARKED = "data-cke-csp-";

  function convert(el) {
    if (!el.attributes || inEditedContent(el)) { return; }
    var names = [], i;
    for (i = 0; i < el.attributes.length; i += 1) {
      if (/^on/i.test(el.attributes[i].name) || el.attributes[i].name.indexOf(PARKED + "on") === 0) {
        names.push(el.attributes[i].name);
      }
    }
    names.forEach(function (name) {
      var handler = compile(el.getAttribute(name));
      if (!handler) { return; } // not CKEditor's: left in place, and blocked by the policy
      el.removeAttribute(name);
      el.addEventListener(name.replace(PARKED, "").slice(2).toLowerCase(), function (ev) {
        if (handler(el, ev) === false) { ev.preventDefault(); }
      });
    });
  }

  /* In CKEditor's own UI markup, park the handlers convert() understands under data- attributes before the
     browser parses it: a blocked on* attribute is reported as a violation the moment it is parsed. */
  var ATTRIBUTE = /(\s)(on[a-z]+)="([^"]*)"/gi;

  function park(html) {
    if (typeof html !== "string" || html.indexOf("on") === -1) { return html; }
    return html.replace(ATTRIBUTE, function (whole, space, name, code) {
      var decoded = code.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
      return compile(decoded) ? space + PARKED + name.toLowerCase() + '="' + code + '"' : whole;
    });
  }

  var createFromHtml = CKEDITOR.dom.element.createFromHtml;
  CKEDITOR.dom.element.createFromHtml = function (html, ownerDocument) {
    return createFromHtml.call(this, park(html), ownerDocument);
  };
  ["setHtml", "appendHtml"].forEach(function (method) {
    var original = CKEDITOR.dom.element.prototype[method];
    if (!original) { return; }
    CKEDITOR.dom.element.prototype[method] = function (html) {
      // Never inside the edited content: CKEditor hands that over already protected.
      var inside = this.$ && this.$.closest && this.$.closest(".cke_editable, [contenteditable=true]");
      return original.call(this, inside ? html : park(html));
    };
  });

  function convertTree(root) {
    if (root.nodeType !== 1 && root.nodeType !== 9) { return; }
    if (root.nodeType === 1) { convert(root); }
    var all = root.querySelectorAll("*"), i;
    for (i = 0; i < all.length; i += 1) { convert(all[i]); }
  }

  function watch(doc) {
    convertTree(doc);
    new MutationObserver(function (records) {
      records.forEach(function (record) {
        if (record.type === "attributes") { convert(record.target); return; }
        record.addedNodes.forEach(convertTree);
      });
    }).observe(doc, {childList: true, subtree: true, attributes: true,
                     attributeFilter: ["onclick", "onmousedown", "onmouseup", "onkeydown", "onkeyup", "onfocus",
                                       "onblur", "onmouseover", "onmouseout", "ondragstart", "oncontextmenu"]});
    /* href="javascript:void('Bold')": the click is handled above; the navigation itself is not wanted. */
    doc.addEventListener("click", function (ev) {
      var link = ev.target.closest && ev.target.closest("a[href^='javascript:']");
      if (link && !inEditedContent(link)) { ev.preventDefault(); }
    }, true);
  }

  /* The editing area is an iframe CKEditor fills with document.write, with an inline <script id="cke_actscrpt">
     that tells the editor, on DOMContentLoaded, that the frame is ready: blocked, the editor would never get
     ready. Its callback number is read from CKEditor's own markup (content typed in the editor reaches the
     frame as protected, encoded comments, so it cannot fake this element) and called as the script would. */
  var FRAME_READY = /<script id="cke_actscrpt"[^>]*>[^<]*?CKEDITOR\.tools\.callFunction\((\d+)\s*,\s*window\)/;

  function announceFrame(doc, number) {
    var done = false;
    function ready() {
      if (done) { return; }
      done = true;
      CKEDITOR.tools.callFunction(number, doc.defaultView);
    }
    if (doc.readyState === "loading") { doc.addEventListener("DOMContentLoaded", ready, false); }
    else { setTimeout(ready, 0); }
  }

  /* Panels (Format, colours...) live in iframes CKEditor fills with document.write; their body's inline onload
     starts the panel. Only documents CKEditor writes for its own panels are converted, never the edited one. */
  var write = CKEDITOR.dom.document.prototype.write;
  CKEDITOR.dom.document.prototype.write = function (html) {
    var ready = typeof html === "string" ? FRAME_READY.exec(html) : null;
    var panel = typeof html === "string" && html.indexOf("cke_panel_container") !== -1;
    if (ready) {
      // Announced below instead: written, the blocked script would only be reported as a violation.
      html = html.replace(/<script id="cke_actscrpt"[^>]*>[\s\S]*?<\/script>/, "");
    }
    var result = write.call(this, panel ? park(html) : html);
    if (ready) { announceFrame(this.$, Number(ready[1])); }
    if (typeof html === "string" && html.indexOf("cke_panel_container") !== -1) {
      var doc = this.$, body = doc.body;
      var onload = body && (body.getAttribute(PARKED + "onload") || body.getAttribute("onload"));
      if (onload) {
        var start = compile(onload);
        body.removeAttribute(PARKED + "onload");
        body.removeAttribute("onload");
        if (start) { setTimeout(function () { start(body, null); }, 0); }
      }
      watch(doc);
    }
    return result;
  };

  watch(document);
}());
