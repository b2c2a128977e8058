// Draws the extension's icon (package.json `icon`, the Marketplace and Open VSX tile): writes
// media/icon.svg and rasterises it to media/icon.png (128×128) in the Chromium the e2e suite uses.
// Run again after changing the drawing: `npm run icon`. Both files are committed.
//
// The drawing: the activity bar's robot head (media/agent-handler.svg), white on an indigo-to-teal
// tile, above three session rows whose coloured dots are the tree's status colours (working,
// waiting, done), so the tile says "agents, listed" at 128 px and stays legible at 32 px.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './e2e-prereqs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIZE = 128;

const rows = [
  { y: 92, dot: '#4ade80', width: 52 }, // working
  { y: 104, dot: '#facc15', width: 40 }, // waiting for you
  { y: 116, dot: '#94a3b8', width: 46 }, // done
];

export const iconSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">
  <defs>
    <linearGradient id="tile" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#312e81"/>
      <stop offset="1" stop-color="#0f766e"/>
    </linearGradient>
  </defs>
  <rect x="2" y="2" width="124" height="124" rx="26" fill="url(#tile)"/>
  <g fill="none" stroke="#ffffff" stroke-width="6" stroke-linecap="round" stroke-linejoin="round">
    <rect x="34" y="30" width="60" height="44" rx="12"/>
    <path d="M64 30V19"/>
    <path d="M24 46v12M104 46v12"/>
  </g>
  <circle cx="64" cy="15" r="5" fill="#ffffff"/>
  <circle cx="52" cy="52" r="6" fill="#ffffff"/>
  <circle cx="76" cy="52" r="6" fill="#ffffff"/>
  ${rows
    .map(
      (r) => `<circle cx="38" cy="${r.y - 8}" r="4" fill="${r.dot}"/>
  <rect x="48" y="${r.y - 11}" width="${r.width}" height="6" rx="3" fill="#ffffff" fill-opacity="0.85"/>`,
    )
    .join('\n  ')}
</svg>
`;

async function main() {
  const svgPath = path.join(root, 'media', 'icon.svg');
  const pngPath = path.join(root, 'media', 'icon.png');
  fs.writeFileSync(svgPath, iconSvg);
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: SIZE, height: SIZE }, deviceScaleFactor: 1 });
    await page.setContent(`<html><body style="margin:0;background:transparent">${iconSvg}</body></html>`);
    await page.locator('svg').screenshot({ path: pngPath, omitBackground: true });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${path.relative(root, svgPath)} and ${path.relative(root, pngPath)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
