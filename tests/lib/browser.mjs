// How the tests start headless Chromium and what axe-core checks, shared by the site checks and
// the end-to-end tests.

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Flags for a root user on a machine with no network: no sandbox (root), and no background
// connections that the closed network would refuse.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// WCAG 2.1 A and AA, and axe's best practices.
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
