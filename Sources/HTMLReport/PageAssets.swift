/// The page's inline style and its one script. Inline so the file opens from disk with no
/// request; the Content-Security-Policy forbids any fetch, so a request the page tried would
/// fail loudly in the browser console instead of leaking a path to a network.
enum PageAssets {
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

    static let style = """
    body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
    h1 { font-size: 1.5em; margin-bottom: 0.2em; }
    h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
    h3 { font-size: 1em; margin: 1.2em 0 0.3em; }
    dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; }
    dl.facts dt { color: #666; }
    dl.facts dd { margin: 0; font-family: ui-monospace, monospace; }
    svg.chart { width: 100%; height: auto; background: #fafafa; border: 1px solid #ddd; }
    svg .tile-label { font: 11px system-ui, sans-serif; fill: #fff; pointer-events: none; }
    svg .axis-label, svg .bar-label { font: 11px system-ui, sans-serif; fill: #444; text-anchor: middle; }
    svg .address, svg .region-name { font: 11px ui-monospace, monospace; fill: #333; }
    svg .grid { stroke: #ddd; stroke-width: 1; }
    table { border-collapse: collapse; margin: 0.5em 0; }
    div.scroll { overflow-x: auto; }
    th, td { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
    th { background: #f3f3f3; cursor: pointer; user-select: none; white-space: nowrap; }
    td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    td.name { font-family: ui-monospace, monospace; min-width: 14em; max-width: 32em; overflow-wrap: anywhere; }
    td.examples a, td.examples span { display: block; font-family: ui-monospace, monospace; }
    .mono, table.words td { font-family: ui-monospace, monospace; }
    .legend span { display: inline-block; margin-right: 1.2em; }
    .legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em; vertical-align: -0.1em; }
    .note { color: #666; }
    .warning { color: #8b1a1a; }
    """

    /// Clicking a header sorts its table by that column (numbers by `data-value`), again to reverse.
    static let sortScript = """
    document.querySelectorAll("table.sortable").forEach(function (table) {
      var headers = table.tHead.rows[0].cells;
      Array.prototype.forEach.call(headers, function (header, column) {
        header.addEventListener("click", function () {
          var numeric = header.getAttribute("data-type") === "number";
          var descending = header.getAttribute("data-order") !== "descending";
          header.setAttribute("data-order", descending ? "descending" : "ascending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = a.cells[column].getAttribute("data-value") || a.cells[column].textContent;
            var y = b.cells[column].getAttribute("data-value") || b.cells[column].textContent;
            var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
            return descending ? -order : order;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
    """
}
