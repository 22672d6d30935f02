// Front-end of workbench.ui.table.DataTable: draws the page of rows Python sends and reports clicks back.
// Written by hand, no dependencies (nothing to build, nothing fetched at run time). Python owns the state:
// a header click sets `sort`, the pager sets `page` / `page_size`, a row click sets `selected`; Python then
// sends the rows to show. So a re-draw (a filter, the search) never loses the sort order or the selection.
// Words come from Python (`labels`, in the UI's language). On a narrow screen each column behaves by its `kind`
// (verdict: keeps its width; text: cut, whole on hover; key: never wraps) and a hint says the table scrolls.

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function sortIndicator(sort, key) {
  if (!sort || sort.key !== key) return "↕";
  return sort.descending ? "▼" : "▲";
}

function reveal(el, selector) {
  // After a click, bring the element that shows the clicked row (e.g. the detail) into view when it is off-screen.
  if (!selector) return;
  let scope = el.parentElement;
  let target = null;
  while (scope && !target) {
    target = scope.querySelector(selector);
    scope = scope.parentElement;
  }
  if (!target) return;
  const box = target.getBoundingClientRect();
  const height = window.innerHeight || document.documentElement.clientHeight;
  if (box.top > height - 120 || box.bottom < 0) target.scrollIntoView({ block: "start", behavior: "smooth" });
}

function render({ model, el }) {
  el.classList.add("wb-table");
  const hint = element("div", "wb-table-scroll-hint");
  hint.style.display = "none";
  const scroll = element("div", "wb-table-scroll");
  const table = element("table", "wb-table-grid");
  const head = element("thead");
  const body = element("tbody");
  table.append(head, body);
  scroll.append(table);
  const footer = element("div", "wb-table-footer");
  const info = element("span", "wb-table-info");
  const prev = element("button", "wb-table-prev");
  const next = element("button", "wb-table-next");
  const size = element("select", "wb-table-size");
  footer.append(info, prev, next, size);
  el.append(hint, scroll, footer);
  const word = (name) => (model.get("labels") || {})[name] || "";

  const showHint = () => {
    // visible while columns are hidden to the right (the box is narrower than the table and not scrolled to the end)
    const hidden = scroll.scrollWidth - scroll.clientWidth - scroll.scrollLeft > 2;
    hint.textContent = word("scroll_hint");
    hint.style.display = hidden ? "" : "none";
    scroll.classList.toggle("wb-table-more", hidden);
  };
  scroll.addEventListener("scroll", showHint);
  const watcher = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(showHint);
  if (watcher) watcher.observe(scroll);

  const send = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };

  const drawHead = () => {
    const sort = model.get("sort") || {};
    const row = element("tr");
    for (const column of model.get("columns") || []) {
      const th = element("th", "wb-table-th");
      th.dataset.key = column.key;
      th.title = `${column.title || column.label} — ${word("click_to_sort")}`;
      if (column.kind) th.classList.add(`wb-col-${column.kind}`);
      th.setAttribute("role", "columnheader");
      th.setAttribute("aria-sort", sort.key === column.key ? (sort.descending ? "descending" : "ascending") : "none");
      if (column.min_width) th.style.minWidth = column.min_width;
      const label = element("span", "wb-table-label", column.label);
      const mark = element("span", "wb-table-sort", sortIndicator(sort, column.key));
      th.append(label, mark);
      th.addEventListener("click", () => {
        const current = model.get("sort") || {};
        const descending = current.key === column.key ? !current.descending : false;
        send("sort", { key: column.key, descending });
      });
      row.append(th);
    }
    head.replaceChildren(row);
  };

  const drawBody = () => {
    const columns = model.get("columns") || [];
    const rows = model.get("rows") || [];
    const selected = model.get("selected");
    const lines = [];
    for (const row of rows) {
      const tr = element("tr", row.id === selected ? "wb-table-row wb-selected" : "wb-table-row");
      tr.dataset.rowId = row.id;
      tr.tabIndex = 0;
      row.cells.forEach((html, i) => {
        const td = element("td");
        if (columns[i] && columns[i].min_width) td.style.minWidth = columns[i].min_width;
        if (columns[i] && columns[i].kind) td.classList.add(`wb-col-${columns[i].kind}`);
        td.innerHTML = html;
        tr.append(td);
      });
      const choose = () => {
        send("selected", row.id);
        reveal(el, model.get("reveal"));
      };
      tr.addEventListener("click", choose);
      tr.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          choose();
        }
      });
      lines.push(tr);
    }
    if (!lines.length) {
      const tr = element("tr", "wb-table-empty");
      const td = element("td", "", model.get("empty_text") || "No rows.");
      td.colSpan = Math.max(1, columns.length);
      tr.append(td);
      lines.push(tr);
    }
    body.replaceChildren(...lines);
  };

  const drawFooter = () => {
    const total = model.get("total") || 0;
    const pageSize = Math.max(1, model.get("page_size") || 10);
    const page = model.get("page") || 0;
    const first = total ? page * pageSize + 1 : 0;
    const last = Math.min(total, (page + 1) * pageSize);
    info.textContent = total ? fill(word("range"), { first, last, total }) : "";
    prev.textContent = word("prev");
    next.textContent = word("next");
    size.title = word("rows_per_page");
    prev.disabled = page <= 0;
    next.disabled = last >= total;
    const sizes = model.get("page_sizes") || [10, 25, 50, 100];
    size.replaceChildren(
      ...sizes.map((n) => {
        const option = element("option", "", fill(word("per_page"), { n }));
        option.value = String(n);
        option.selected = n === pageSize;
        return option;
      }),
    );
    footer.style.display = total > Math.min(...sizes) ? "" : "none";
  };

  const draw = () => {
    drawHead();
    drawBody();
    drawFooter();
    requestAnimationFrame(showHint);
  };

  prev.addEventListener("click", () => send("page", Math.max(0, (model.get("page") || 0) - 1)));
  next.addEventListener("click", () => send("page", (model.get("page") || 0) + 1));
  size.addEventListener("change", () => send("page_size", Number(size.value)));

  const names = ["columns", "rows", "sort", "selected", "page", "page_size", "total", "empty_text", "labels"];
  for (const name of names) model.on(`change:${name}`, draw);
  draw();
  return () => {
    for (const name of names) model.off(`change:${name}`, draw);
    if (watcher) watcher.disconnect();
  };
}

export default { render };
