/**
 * The dashboard webview's page, apart from VS Code so that its Content Security Policy is tested:
 * nothing but the extension's own bundled script (with a fresh nonce) and stylesheet may load, no
 * inline script or style, no network. Every text the page shows is set with textContent by the script.
 */
export interface DashboardPage {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function dashboardHtml(p: DashboardPage): string {
  const csp = [
    "default-src 'none'",
    `style-src ${p.cspSource}`,
    `img-src ${p.cspSource} data:`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${p.styleUri}">
<title>Agent Handler Dashboard</title>
</head>
<body>
<header>
  <h1>Agent Handler</h1>
  <label>Range <select id="f-days"><option value="7">7 days</option><option value="30">30 days</option><option value="90">90 days</option><option value="365">365 days</option><option value="0">All time</option></select></label>
  <label>Agent <select id="f-agent"></select></label>
  <label>Repository <select id="f-repo"></select></label>
  <label id="f-machine-label" hidden>Machine <select id="f-machine"></select></label>
  <label>Show <select id="f-metric"><option value="cost">cost</option><option value="tokens">tokens</option></select></label>
</header>
<div id="tiles" class="tiles"></div>
<div id="daily" class="grid"></div>
<div id="splits" class="grid"></div>
<section class="card"><h2>Costliest sessions</h2><table id="costliest"></table></section>
<footer id="updated" class="muted"></footer>
<script nonce="${p.nonce}" src="${p.scriptUri}"></script>
</body>
</html>`;
}
