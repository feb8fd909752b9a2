/**
 * Loads uWebSockets.js (the uws-pack build) once. It ships binaries for Node 18/20/21/22 on glibc
 * Linux, macOS and Windows only; elsewhere the import throws, and the broker serves Kafka without
 * the gateway (or refuses to start when ws.enabled was set explicitly: src/index.ts).
 */
import type * as Uws from 'uWebSockets.js';
import { faults } from '../util/faults.js';

export type UwsModule = typeof Uws;
export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js';

let loaded: Promise<UwsModule> | undefined;

/** The module, or a rejection whose message says why it cannot load here. */
export function loadUws(): Promise<UwsModule> {
  loaded ??= (faults.uwsUnloadable ? Promise.reject(new Error('no binary for this platform (simulated: BROOK_TEST_UWS_UNLOADABLE=1)')) : import('uWebSockets.js')).catch((e: unknown) => {
    const why = (e as Error).message.split('\n')[0];
    throw new Error(`uWebSockets.js cannot load on Node ${process.versions.node} (${process.platform}-${process.arch}): ${why}`);
  });
  return loaded;
}
