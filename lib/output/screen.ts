// Redrawing for top-style tools: bcc's run `clear` before each interval unless told -C/--noclear,
// which prints an empty line instead and keeps the history in the scrollback. We never send
// escape codes to a file or a pipe: there, every interval is separated as with -C.

/** What `clear` writes on xterm-like terminals: home, erase display, erase scrollback. */
export const CLEAR_SCREEN = '\u001b[H\u001b[2J\u001b[3J';

/** Whether this run clears the screen between intervals. */
export function clearsScreen(noclear: boolean, isTTY = Boolean(process.stdout.isTTY)): boolean {
  return !noclear && isTTY;
}

/** The text that starts each interval: the clear sequence, or bcc's empty line. */
export function intervalStart(clear: boolean): string {
  return clear ? CLEAR_SCREEN : '\n';
}
