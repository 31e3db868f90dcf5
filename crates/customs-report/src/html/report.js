// The findings table of customs' HTML report: sorting and filtering over the JSON the page
// carries in #customs-data. Everything is built with DOM calls and textContent, never
// innerHTML, because every string in the data comes from the scanned image.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("customs-data").textContent);
  var findings = data.findings;
  var app = document.getElementById("findings-app");
  var body = document.getElementById("findings-body");
  var count = document.getElementById("findings-count");
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var fixable = document.getElementById("filter-fixable");
  var suppressed = document.getElementById("filter-suppressed");
  var headers = app.querySelectorAll("th[data-sort]");

  var RANK = { unknown: 0, negligible: 1, low: 2, medium: 3, high: 4, critical: 5 };
  var STATUS = { fixed: 0, affected: 1, "under-investigation": 2, "wont-fix": 3, "not-affected": 4 };

  function byText(a, b) {
    return a.localeCompare(b, "en", { numeric: true });
  }

  // Each column's key (null sorts last in both directions: a missing EPSS score is not a
  // low one) and the direction of its first click: worst first where "more" is worse.
  var COLUMNS = {
    id: { key: function (f) { return f.id; }, cmp: byText, first: 1 },
    package: { key: function (f) { return f.package + "\u0000" + f.version; }, cmp: byText, first: 1 },
    severity: { key: function (f) { return RANK[f.severity]; }, cmp: numeric, first: -1 },
    status: { key: function (f) { return STATUS[f.status]; }, cmp: numeric, first: 1 },
    fixed: { key: function (f) { return f.fixed.length ? f.fixed[0] : null; }, cmp: byText, first: 1 },
    epss: { key: function (f) { return f.epss; }, cmp: numeric, first: -1 },
    layer: { key: function (f) { return f.layer; }, cmp: numeric, first: 1 }
  };

  function numeric(a, b) {
    return a - b;
  }

  var sort = { column: data.sort, dir: COLUMNS[data.sort].first };

  function compare(a, b) {
    var col = COLUMNS[sort.column];
    var ka = col.key(a);
    var kb = col.key(b);
    if (ka === null || kb === null || ka === undefined || kb === undefined) {
      var na = ka === null || ka === undefined;
      var nb = kb === null || kb === undefined;
      if (na !== nb) {
        return na ? 1 : -1;
      }
    } else {
      var c = col.cmp(ka, kb) * sort.dir;
      if (c !== 0) {
        return c;
      }
    }
    // Report order breaks ties, so a sort is the same whatever was clicked before.
    return a.order - b.order;
  }

  function shown(f, needle, minRank) {
    if (f.suppressed !== null && !suppressed.checked) {
      return false;
    }
    if (fixable.checked && !f.fixable) {
      return false;
    }
    if (RANK[f.severity] < minRank) {
      return false;
    }
    if (needle === "") {
      return true;
    }
    var hay = [f.id, f.package, f.title || ""].concat(f.aliases).join("\n").toLowerCase();
    return hay.indexOf(needle) !== -1;
  }

  function cell(row, content, cls) {
    var td = document.createElement("td");
    if (cls) {
      td.className = cls;
    }
    if (typeof content === "string") {
      td.textContent = content;
    } else if (content) {
      td.appendChild(content);
    }
    row.appendChild(td);
    return td;
  }

  function span(cls, content) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = content;
    return s;
  }

  function row(f) {
    var tr = document.createElement("tr");
    tr.dataset.id = f.id;
    tr.dataset.package = f.package;
    tr.dataset.severity = f.severity;
    tr.dataset.fixable = String(f.fixable);
    tr.dataset.suppressed = String(f.suppressed !== null);
    if (f.suppressed !== null) {
      tr.className = "suppressed";
    }

    var id = cell(tr, f.id, "col-id");
    if (f.aliases.length) {
      id.title = "also " + f.aliases.join(", ");
    }
    if (f.kev) {
      id.appendChild(document.createTextNode(" "));
      id.appendChild(span("kev", "KEV")).title = "in CISA's Known Exploited Vulnerabilities catalog";
    }
    var pkg = cell(tr, f.package, "col-package");
    pkg.appendChild(document.createTextNode(" "));
    pkg.appendChild(span("version", f.version));
    cell(tr, span("sev sev-" + f.severity, f.severity), "col-severity");
    var status = cell(tr, f.status, "col-status");
    if (f.suppressed !== null) {
      status.appendChild(document.createElement("br"));
      status.appendChild(span("why", f.suppressed));
    }
    cell(tr, f.fixed.join("\n"), "col-fixed");
    var epss = cell(tr, f.epss === null ? "" : (f.epss * 100).toFixed(2) + "%", "col-epss num");
    if (f.epss_percentile !== null) {
      epss.title = "percentile " + (f.epss_percentile * 100).toFixed(1);
    }
    if (f.layer === null) {
      cell(tr, "", "col-layer num");
    } else {
      var a = document.createElement("a");
      a.href = "#layer-" + f.layer;
      a.textContent = String(f.layer);
      cell(tr, a, "col-layer num");
    }
    var title = cell(tr, f.title || "", "col-title");
    if (f.cvss !== null) {
      title.title = "CVSS " + f.cvss;
    }
    return tr;
  }

  function render() {
    var needle = text.value.trim().toLowerCase();
    var minRank = severity.value === "" ? 0 : RANK[severity.value];
    var rows = findings.filter(function (f) { return shown(f, needle, minRank); });
    rows.sort(compare);

    var frag = document.createDocumentFragment();
    rows.forEach(function (f) { frag.appendChild(row(f)); });
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      tr.className = "empty";
      cell(tr, findings.length ? "No finding matches the filters." : "No findings.").colSpan = 8;
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    count.textContent = rows.length + " of " + findings.length + " findings shown";
    count.dataset.shown = String(rows.length);

    headers.forEach(function (th) {
      var state = "none";
      if (th.dataset.sort === sort.column) {
        state = sort.dir === 1 ? "ascending" : "descending";
      }
      th.setAttribute("aria-sort", state);
    });
  }

  headers.forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var column = th.dataset.sort;
      if (sort.column === column) {
        sort.dir = -sort.dir;
      } else {
        sort = { column: column, dir: COLUMNS[column].first };
      }
      render();
    });
  });
  text.addEventListener("input", render);
  [severity, fixable, suppressed].forEach(function (el) {
    el.addEventListener("change", render);
  });

  suppressed.checked = data.show_suppressed;
  app.hidden = false;
  render();
  document.body.dataset.ready = "true";
})();
