// Opens every page of the built book in headless Chromium, as a reader
// would, takes a full-page screenshot of each, and fails on what a reader
// would see wrong: a console error, a request that failed or left the
// machine, a missing image, a broken link or anchor, raw TeX, markup inside
// a formula, a formula KaTeX could not render or one wider than the column,
// a KaTeX font that did not load, a table or code block wider than the
// column, and figure text smaller than 12 px as displayed.
//
// usage: node check.mjs [BOOK_DIR] [SCREENSHOT_DIR]
// (defaults: ../book and ../../target/book-screenshots, beside this file;
// CHROMIUM names the browser, /usr/bin/chromium by default)

import { createServer } from "node:http";
import { readFile, readdir, mkdir, stat } from "node:fs/promises";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bookDir = resolve(process.argv[2] ?? join(here, "..", "book"));
const shotDir = resolve(process.argv[3] ?? join(here, "..", "..", "target", "book-screenshots"));
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Figure text smaller than this, in CSS pixels as displayed, is too small.
const MIN_FIGURE_TEXT_PX = 12;
const VIEWPORT = { width: 1280, height: 900 };

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css",
  ".js": "text/javascript",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".ttf": "font/ttf",
  ".json": "application/json",
  ".ico": "image/x-icon",
};

async function exists(path) {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function htmlPages(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await htmlPages(path)));
    else if (entry.name.endsWith(".html")) out.push(relative(bookDir, path));
  }
  return out.sort();
}

function serve(root) {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    let file = join(root, path);
    if (!file.startsWith(root)) {
      response.writeHead(403).end();
      return;
    }
    if (path.endsWith("/")) file = join(file, "index.html");
    try {
      const body = await readFile(file);
      response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

// Runs in the page: everything that needs the rendered DOM.
function inspectPage() {
  const found = [];
  const main = document.querySelector("main");
  if (!main) return { found: ["no <main> element"], links: [], svgs: [] };

  // Raw TeX: backslash commands, $$, or a $…$ pair left in the text.
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const tex = /\\[A-Za-z]{2,}|\$\$|\$[^$\s][^$]*[_^\\{][^$]*\$/;
  let text = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("pre, code, .katex, script, style")) continue;
    text += node.textContent;
    text += " ";
  }
  // Text nodes split by markup (an <em> made of a formula's underscores)
  // still read as one: check the page's text as a whole too.
  const match = text.match(tex);
  if (match) {
    const at = text.indexOf(match[0]);
    found.push(`raw TeX in the text: "${text.slice(Math.max(0, at - 40), at + 60).replace(/\s+/g, " ")}"`);
  }

  for (const bad of main.querySelectorAll(".katex em, .katex strong, .katex a, .katex code, .katex img")) {
    found.push(`markup inside a formula: <${bad.tagName.toLowerCase()}> in "${bad.closest(".katex").textContent.slice(0, 60)}"`);
  }
  for (const error of main.querySelectorAll(".katex-error")) {
    found.push(`a formula KaTeX could not render: "${error.textContent.slice(0, 80)}"`);
  }
  for (const display of main.querySelectorAll(".katex-display")) {
    if (display.scrollWidth > display.clientWidth + 1) {
      found.push(`a formula ${display.scrollWidth} px wide in a ${display.clientWidth} px column: "${display.textContent.slice(0, 60)}"`);
    }
  }
  if (main.querySelector(".katex")) {
    for (const face of document.fonts) {
      if (face.family.replace(/"/g, "").startsWith("KaTeX") && face.status === "error") {
        found.push(`the math font ${face.family} ${face.weight} ${face.style} did not load`);
      }
    }
    if (!document.fonts.check('16px "KaTeX_Main"')) found.push("the math font KaTeX_Main is not available");
  }

  for (const img of document.querySelectorAll("img")) {
    if (!img.complete || img.naturalWidth === 0) found.push(`image did not load: ${img.getAttribute("src")}`);
  }

  // A table must fit the text column, or sit in a box that scrolls sideways.
  const column = main.getBoundingClientRect();
  for (const table of main.querySelectorAll("table")) {
    const box = table.getBoundingClientRect();
    if (box.right <= column.right + 1) continue;
    let scrolls = false;
    for (let up = table.parentElement; up && up !== main.parentElement; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if ((overflow === "auto" || overflow === "scroll") && up.scrollWidth > up.clientWidth) scrolls = true;
    }
    const head = table.querySelector("th, td")?.textContent.trim() ?? "";
    if (!scrolls) {
      found.push(`table "${head}…" is ${Math.round(box.width)} px wide in a ${Math.round(column.width)} px column, with no scroll`);
    } else {
      found.push(`table "${head}…" is ${Math.round(box.width)} px wide in a ${Math.round(column.width)} px column: the reader must scroll it sideways`);
    }
  }

  // A code block or printed output whose lines run past the column hides
  // their ends behind a sideways scroll the reader may never notice.
  for (const code of main.querySelectorAll("pre > code")) {
    if (code.scrollWidth > code.clientWidth + 1) {
      const longest = code.textContent.split("\n").reduce((a, b) => (b.length > a.length ? b : a), "");
      found.push(`code wider than the column (${code.scrollWidth} px in ${code.clientWidth}): "${longest.trim().slice(0, 70)}…"`);
    }
  }

  const links = [...document.querySelectorAll("a[href]")].map((a) => a.href);
  const svgs = [...main.querySelectorAll("img")]
    .filter((img) => img.src.endsWith(".svg"))
    .map((img) => ({ src: img.src, width: img.getBoundingClientRect().width }));
  return { found, links, svgs };
}

// The smallest text in an SVG figure, in CSS pixels at the width it is shown.
function smallestSvgText(svg, shownWidth) {
  const viewBox = svg.match(/viewBox="[\d.\s-]*?\s([\d.]+)\s+[\d.]+"/);
  const width = svg.match(/<svg[^>]*\swidth="([\d.]+)/);
  const drawnWidth = Number(viewBox?.[1] ?? width?.[1]);
  if (!drawnWidth) return null;
  const sizes = [...svg.matchAll(/font-size="([\d.]+)/g)].map((m) => Number(m[1]));
  if (sizes.length === 0) return null;
  return (Math.min(...sizes) * shownWidth) / drawnWidth;
}

async function main() {
  if (!(await exists(join(bookDir, "index.html")))) {
    console.error(`no book at ${bookDir}: build it first (cargo xtask book)`);
    process.exit(2);
  }
  await mkdir(shotDir, { recursive: true });
  const server = await serve(bookDir);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: browserPath,
    // Without these, Chromium calls Google's services, and the closed
    // network here refuses them noisily.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: VIEWPORT });
  const problems = [];
  const allLinks = new Map();
  const svgChecked = new Map();
  const pages = (await htmlPages(bookDir)).filter((p) => p !== "print.html" && p !== "toc.html");

  for (const path of pages) {
    const page = await context.newPage();
    const here = [];
    page.on("console", (m) => m.type() === "error" && here.push(`console error: ${m.text()}`));
    page.on("pageerror", (e) => here.push(`script error: ${e.message}`));
    page.on("requestfailed", (r) => here.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on("response", (r) => r.status() >= 400 && here.push(`HTTP ${r.status()}: ${r.url()}`));
    // The book must read with no network: anything that is not the book
    // itself is refused, and named.
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith("data:")) return route.continue();
      here.push(`reaches the network: ${url}`);
      return route.abort();
    });
    await page.goto(`${origin}/${path}`, { waitUntil: "load" });
    await page.evaluate(() => document.fonts.ready);
    const { found, links, svgs } = await page.evaluate(inspectPage);
    here.push(...found);
    for (const link of links) if (!allLinks.has(link)) allLinks.set(link, path);
    for (const { src, width } of svgs) {
      const key = `${src} at ${Math.round(width)}`;
      if (svgChecked.has(key)) continue;
      const svg = await (await fetch(src)).text();
      const px = smallestSvgText(svg, width);
      svgChecked.set(key, px);
      if (px !== null && px < MIN_FIGURE_TEXT_PX - 0.1) {
        here.push(`figure ${src.slice(origin.length + 1)}: smallest text is ${px.toFixed(1)} px as shown (${Math.round(width)} px wide), under ${MIN_FIGURE_TEXT_PX} px`);
      }
    }
    const shot = join(shotDir, path.replace(/\.html$/, ".png"));
    await mkdir(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    await page.close();
    for (const p of here) problems.push(`${path}: ${p}`);
    console.log(`${here.length === 0 ? "ok  " : "FAIL"} ${path}`);
  }

  // Links within the book: the file must exist, and the anchor in it.
  let external = 0;
  for (const [link, from] of allLinks) {
    const url = new URL(link);
    // The 404 page's <base> is the site root, so its own heading anchor
    // resolves there: mdbook's doing, and only on that page.
    if (from === "404.html" && url.hash && url.pathname === "/") continue;
    if (url.origin !== origin) {
      if (url.protocol === "http:" || url.protocol === "https:") external += 1;
      continue;
    }
    let file = join(bookDir, decodeURIComponent(url.pathname));
    if (url.pathname.endsWith("/")) file = join(file, "index.html");
    if (!(await exists(file))) {
      problems.push(`${from}: broken link to ${url.pathname}`);
      continue;
    }
    const anchor = decodeURIComponent(url.hash.slice(1));
    if (anchor && file.endsWith(".html")) {
      const html = await readFile(file, "utf8");
      if (!html.includes(`id="${anchor}"`)) problems.push(`${from}: link to a missing anchor ${url.pathname}#${anchor}`);
    }
  }

  await browser.close();
  server.close();
  console.log(
    `\n${pages.length} pages, ${allLinks.size} links (${external} outside the book, not followed), ` +
      `${svgChecked.size} figures measured; screenshots in ${relative(process.cwd(), shotDir) || "."}`,
  );
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s):`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log("The book reads well in Chromium.");
}

await main();
