"""The HTML/CSS/JS of the backward stepper page (no external resources: the file works offline, as one file)."""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{TITLE}}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 0; display: flex; height: 100vh; background: #fafafa; }
  #graph { flex: 3; overflow: auto; border-right: 1px solid #ccc; background: white; }
  #panel { flex: 2; overflow: auto; padding: 12px 16px; min-width: 320px; }
  #controls button { font-size: 15px; margin-right: 4px; padding: 4px 10px; }
  #counter { font-weight: bold; margin-left: 8px; }
  pre { background: #f0f0f0; padding: 6px; font-size: 12px; overflow-x: auto; }
  .stats { font-family: monospace; font-size: 12px; }
  .bad { color: #c00000; font-weight: bold; }
  .hint { color: #777; font-size: 12px; }
  g.node.done polygon, g.node.done path, g.node.done ellipse { stroke: #2a8c2a; stroke-width: 2.5px; }
  g.node.current polygon, g.node.current path, g.node.current ellipse {
    stroke: #e0007a; stroke-width: 5px; }
  g.node.target polygon, g.node.target path, g.node.target ellipse { stroke: #ff8c00; stroke-width: 3.5px; }
  g.edge.flow path { stroke: #e0007a; stroke-width: 3px; }
  g.edge.flow polygon { stroke: #e0007a; fill: #e0007a; }
</style>
</head>
<body>
<div id="graph">{{SVG}}</div>
<div id="panel">
  <h2>{{TITLE}}</h2>
  <div id="controls">
    <button id="first" title="first step (Home)">&laquo; first</button>
    <button id="prev" title="previous step (left arrow)">&#x25C0; prev</button>
    <button id="next" title="next step (right arrow)">next &#x25B6;</button>
    <button id="last" title="last step (End)">last &raquo;</button>
    <span id="counter"></span>
  </div>
  <p class="hint">Arrow keys step through backward. The outlined node is running its backward; green nodes are
  done; orange nodes receive the gradients it sends.</p>
  <div id="info"></div>
</div>
<script type="application/json" id="data">{{DATA}}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var steps = data.steps;
  var nodes = {}, edges = {};
  document.querySelectorAll('#graph g.node').forEach(function (g) {
    nodes[g.querySelector('title').textContent] = g; });
  document.querySelectorAll('#graph g.edge').forEach(function (g) {
    edges[g.querySelector('title').textContent.replace('&gt;', '>')] = g; });
  var cur = 0;
  function esc(s) { return String(s).replace(/[&<>]/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;'}[c]; }); }
  function gradHtml(g) {
    if (!g) { return '<div class="stats">no gradient</div>'; }
    var s = '<div class="stats' + (g.finite ? '' : ' bad') + '">shape ' + g.shape + ' ' + g.dtype +
      ' &nbsp;|g| ' + g.norm + ' &nbsp;min ' + g.min + ' &nbsp;max ' + g.max + ' &nbsp;mean ' + g.mean +
      (g.finite ? '' : ' &nbsp;NaN/Inf!') + '</div>';
    if (g.array !== undefined) { s += '<pre>' + esc(g.array) + '</pre>'; }
    return s;
  }
  function show(k) {
    cur = Math.max(0, Math.min(steps.length - 1, k));
    document.body.dataset.step = String(cur);
    Object.keys(nodes).forEach(function (key) { nodes[key].classList.remove('current', 'done', 'target'); });
    Object.keys(edges).forEach(function (key) { edges[key].classList.remove('flow'); });
    for (var i = 0; i < cur; i++) { var d = nodes[steps[i].key]; if (d) { d.classList.add('done'); } }
    var st = steps[cur];
    if (!st) { document.getElementById('info').innerHTML = '<p>No steps recorded.</p>'; return; }
    var n = nodes[st.key];
    if (n) { n.classList.add('current'); n.scrollIntoView({block: 'nearest', inline: 'nearest'}); }
    var h = '<h3>' + esc(st.title) + (st.key === data.first_nonfinite ?
      ' <span class="bad">first non-finite gradient</span>' : '') + '</h3>';
    if (st.module) { h += '<div>module: ' + esc(st.module) + '</div>'; }
    h += '<h4>' + (st.leaf ? 'gradient accumulated into .grad' : 'gradient arriving at the output') + '</h4>';
    st.out.forEach(function (g, i) { if (st.out.length > 1) { h += '<div>output ' + i + '</div>'; }
      h += gradHtml(g); });
    if (st.inputs.length) { h += '<h4>gradients sent to the inputs</h4>'; }
    st.inputs.forEach(function (inp) {
      var t = nodes[inp.to]; if (t) { t.classList.add('target'); }
      var e = edges[inp.to + '->' + st.key]; if (e) { e.classList.add('flow'); }
      h += '<div><b>input ' + inp.arg + '</b> &#8594; ' + esc(inp.to_title) + '</div>' + gradHtml(inp.grad);
    });
    document.getElementById('info').innerHTML = h;
    document.getElementById('counter').textContent = 'step ' + (cur + 1) + ' / ' + steps.length;
  }
  document.getElementById('first').onclick = function () { show(0); };
  document.getElementById('prev').onclick = function () { show(cur - 1); };
  document.getElementById('next').onclick = function () { show(cur + 1); };
  document.getElementById('last').onclick = function () { show(steps.length - 1); };
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') { show(cur + 1); ev.preventDefault(); }
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') { show(cur - 1); ev.preventDefault(); }
    else if (ev.key === 'Home') { show(0); ev.preventDefault(); }
    else if (ev.key === 'End') { show(steps.length - 1); ev.preventDefault(); }
  });
  show(0);
})();
</script>
</body>
</html>
"""
