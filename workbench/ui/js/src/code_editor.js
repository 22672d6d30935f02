// Front-end of workbench.ui.code_editor.CodeEditor: a CodeMirror 6 editor for `.prompty` template files,
// shipped as an anywidget ES module. Bundled (with CodeMirror) into ../static/code_editor.js by build.mjs,
// so nothing is fetched from the network when a notebook shows the widget.
//
// Traits synced with Python: value (the document), markers ([{line, message, severity}] shown as lint
// diagnostics), save_requests (counter bumped by Ctrl/Cmd+S), read_only, height.

import { Annotation, Compartment, EditorState, StateEffect, StateField, Prec, Transaction } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  crosshairCursor,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { HighlightStyle, StreamLanguage, bracketMatching, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { tags as t } from "@lezer/highlight";
import { defaultKeymap, history, historyKeymap, indentWithTab, isolateHistory } from "@codemirror/commands";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import { lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { yaml } from "@codemirror/legacy-modes/mode/yaml";
import { jinja2 } from "@codemirror/legacy-modes/mode/jinja2";

const DEBOUNCE_MS = 300;

// ---- the .prompty language: YAML front matter between `---` lines, then a Jinja2 body ------------------------
// Same rules as workbench/prompts/fileformat.py and template.py: front matter only when the first line is `---`
// (after an optional BOM, surrounding whitespace ignored) and it ends at the next `---` line; role lines are
// `system:` / `user:` / `assistant:` alone on a line.
const FENCE = /^\s*---\s*$/;
const ROLE_LINE = /^[ \t]*(system|user|assistant)[ \t]*:[ \t]*$/i;
const START = 0;
const FRONT = 1;
const BODY = 2;

function copyModeState(state) {
  if (typeof state !== "object" || state === null) return state;
  const copy = {};
  for (const key in state) {
    const val = state[key];
    copy[key] = Array.isArray(val) ? val.slice() : val;
  }
  return copy;
}

const prompty = StreamLanguage.define({
  name: "prompty",
  startState: (unit) => ({ phase: START, yaml: yaml.startState(unit), jinja: jinja2.startState(unit) }),
  copyState: (s) => ({ phase: s.phase, yaml: copyModeState(s.yaml), jinja: copyModeState(s.jinja) }),
  blankLine(state) {
    if (state.phase === START) state.phase = BODY; // a blank first line: no front matter
  },
  token(stream, state) {
    if (state.phase === START) {
      state.phase = BODY;
      if (stream.sol() && FENCE.test(stream.string.replace(/^\ufeff/, ""))) {
        stream.skipToEnd();
        state.phase = FRONT;
        return "meta";
      }
    }
    if (state.phase === FRONT) {
      if (stream.sol() && FENCE.test(stream.string)) {
        stream.skipToEnd();
        state.phase = BODY;
        return "meta";
      }
      return yaml.token(stream, state.yaml) || null;
    }
    const j = state.jinja;
    if (!j.intag && !j.incomment) {
      if (stream.sol() && ROLE_LINE.test(stream.string)) {
        stream.skipToEnd();
        return "heading";
      }
      // Plain prompt text up to the next `{`. This also keeps `#` (markdown headings, "C#") from being read as
      // a Jinja line statement, which the workbench's Jinja environment does not enable.
      if (stream.peek() !== "{") {
        stream.eatWhile(/[^{]/);
        return null;
      }
    }
    return jinja2.token(stream, j) || null;
  },
  languageData: { commentTokens: { block: { open: "{#", close: "#}" } } },
});

const promptyHighlight = HighlightStyle.define([
  { tag: t.heading, fontWeight: "bold", color: "#7a3e9d", textDecoration: "underline" },
  { tag: t.meta, color: "#6b7280", fontWeight: "bold" },
  { tag: t.tagName, color: "#b45309", fontWeight: "bold" }, // {{ }} {% %} delimiters
  { tag: t.keyword, color: "#7c3aed" },
  { tag: t.atom, color: "#0e7490" }, // YAML keys, true/false
  { tag: t.number, color: "#15803d" },
  { tag: t.string, color: "#a31515" },
  { tag: t.comment, color: "#6b7280", fontStyle: "italic" },
  { tag: t.variableName, color: "#1d4ed8" },
  { tag: t.operator, color: "#9a3412" },
]);

// ---- marker lines: a background on lines that carry a marker, next to the lint underline and gutter -------------
const setMarkerLines = StateEffect.define();
const errorLine = Decoration.line({ class: "wb-marker-line wb-marker-line-error" });
const warningLine = Decoration.line({ class: "wb-marker-line wb-marker-line-warning" });
const markerLines = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setMarkerLines)) deco = e.value;
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const theme = EditorView.theme({
  "&": {
    height: "100%",
    fontSize: "13px",
    backgroundColor: "var(--jp-layout-color0, #fff)",
    color: "var(--jp-content-font-color1, #1f2328)",
  },
  "&.cm-focused": { outline: "none" },
  ".cm-scroller": {
    overflow: "auto",
    // Monospace stack without a forced CJK-less font: the browser falls back per glyph for Chinese text.
    fontFamily: 'var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace)',
    lineHeight: "1.5",
  },
  ".cm-gutters": {
    backgroundColor: "var(--jp-layout-color1, #f6f8fa)",
    color: "var(--jp-ui-font-color2, #6e7781)",
    borderRight: "1px solid var(--jp-border-color2, #d0d7de)",
  },
  ".wb-marker-line-error": { backgroundColor: "rgba(255, 0, 0, 0.07)" },
  ".wb-marker-line-warning": { backgroundColor: "rgba(255, 170, 0, 0.10)" },
  ".cm-panels": { fontFamily: "var(--jp-ui-font-family, system-ui, sans-serif)" },
});

// ---- widget ---------------------------------------------------------------------------------------------------
const remote = Annotation.define(); // transactions that apply Python's value: never synced back

function toDiagnostics(doc, markers) {
  const diagnostics = [];
  for (const m of Array.isArray(markers) ? markers : []) {
    if (!m || typeof m !== "object") continue;
    let n = Math.trunc(Number(m.line));
    if (!Number.isFinite(n)) n = 1;
    n = Math.min(Math.max(n, 1), doc.lines);
    const line = doc.line(n);
    const severity = ["error", "warning", "info", "hint"].includes(m.severity) ? m.severity : "error";
    diagnostics.push({ from: line.from, to: line.to, severity, message: String(m.message ?? "") });
  }
  return diagnostics;
}

/** The smallest single change turning `a` into `b` (common prefix and suffix kept, so selections map well). */
function minimalChange(a, b) {
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--;
    endB--;
  }
  return { from: start, to: endA, insert: b.slice(start, endB) };
}

function render({ model, el }) {
  el.classList.add("wb-code-editor");
  el.style.height = model.get("height") || "420px";
  el.style.border = "1px solid var(--jp-border-color1, #d0d7de)";
  el.style.borderRadius = "4px";
  el.style.overflow = "hidden";
  el.style.boxSizing = "border-box";

  let timer = null;
  const readOnly = new Compartment();

  const cancelPending = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
  const flush = () => {
    cancelPending();
    const text = view.state.doc.toString();
    if (text !== model.get("value")) {
      model.set("value", text);
      model.save_changes();
    }
  };
  const requestSave = () => {
    flush();
    model.set("save_requests", (Number(model.get("save_requests")) || 0) + 1);
    model.save_changes();
    return true;
  };

  const view = new EditorView({
    parent: el,
    state: EditorState.create({
      doc: model.get("value") || "",
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-s", run: requestSave, preventDefault: true }])),
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        dropCursor(),
        EditorState.allowMultipleSelections.of(true),
        indentUnit.of("  "),
        prompty,
        syntaxHighlighting(promptyHighlight),
        bracketMatching(),
        rectangularSelection(),
        crosshairCursor(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        search({ top: true }),
        lintGutter(),
        markerLines,
        EditorView.lineWrapping,
        readOnly.of(EditorState.readOnly.of(!!model.get("read_only"))),
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, ...lintKeymap, indentWithTab]),
        theme,
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          if (update.transactions.every((tr) => tr.annotation(remote))) return;
          cancelPending();
          timer = setTimeout(flush, DEBOUNCE_MS);
        }),
        EditorView.domEventHandlers({
          blur: () => {
            flush();
            return false;
          },
        }),
      ],
    }),
  });

  const applyMarkers = () => {
    const diagnostics = toDiagnostics(view.state.doc, model.get("markers"));
    const lines = diagnostics
      .map((d) => view.state.doc.lineAt(d.from).from)
      .map((from, i) => (diagnostics[i].severity === "error" ? errorLine : warningLine).range(from));
    view.dispatch(setDiagnostics(view.state, diagnostics), {
      effects: setMarkerLines.of(Decoration.set(lines, true)),
      annotations: remote.of(true),
    });
  };

  const onValue = () => {
    const next = model.get("value") ?? "";
    const current = view.state.doc.toString();
    if (next === current) return;
    cancelPending(); // Python's value wins over edits not yet synced
    // One minimal change: the selection maps through it, so the cursor stays put when the edit is elsewhere.
    view.dispatch({
      changes: minimalChange(current, next),
      annotations: [remote.of(true), isolateHistory.of("full"), Transaction.userEvent.of("input.remote")],
    });
    applyMarkers(); // markers are line numbers in the new text
  };
  const onMarkers = () => applyMarkers();
  const onReadOnly = () =>
    view.dispatch({ effects: readOnly.reconfigure(EditorState.readOnly.of(!!model.get("read_only"))) });
  const onHeight = () => {
    el.style.height = model.get("height") || "420px";
    view.requestMeasure();
  };
  // Keys the editor handled (Tab, Mod-s, Mod-f, ...) must not reach Jupyter's own shortcuts.
  const stopHandledKeys = (event) => {
    if (event.defaultPrevented) event.stopPropagation();
  };

  model.on("change:value", onValue);
  model.on("change:markers", onMarkers);
  model.on("change:read_only", onReadOnly);
  model.on("change:height", onHeight);
  el.addEventListener("keydown", stopHandledKeys);
  applyMarkers();

  return () => {
    try {
      flush();
    } catch (err) {
      // the model may already be closed
    }
    model.off("change:value", onValue);
    model.off("change:markers", onMarkers);
    model.off("change:read_only", onReadOnly);
    model.off("change:height", onHeight);
    el.removeEventListener("keydown", stopHandledKeys);
    view.destroy();
  };
}

export default { render };
