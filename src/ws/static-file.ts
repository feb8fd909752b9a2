/**
 * Files served as they are on the gateway's listener (the client library, the console's page and
 * uPlot): read at each request without blocking the event loop (a few small files; a rebuilt or
 * upgraded file is served at once, nothing goes stale), 404 when absent.
 */
import { readFile } from 'node:fs/promises';
import type { GuardedResponse } from './guard.js';

export function notFound(r: GuardedResponse): void {
  r.end('404 Not Found', 'not found\n', { 'content-type': 'text/plain' });
}

/** Answers the file at `path` with `headers` (its content type among them), or 404. */
export async function sendFile(r: GuardedResponse, path: string, headers: Record<string, string>): Promise<void> {
  let body: string;
  try {
    body = await readFile(path, 'utf8');
  } catch {
    notFound(r);
    return;
  }
  r.end('200 OK', body, headers);
}
