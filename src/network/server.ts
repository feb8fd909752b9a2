/**
 * The TCP listener: accepts connections and gives each a Connection wired to the request sink.
 * Graceful shutdown stops accepting, stops reading, lets in-flight requests finish (bounded), then
 * closes the sockets.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { RequestSink } from '../protocol/request-sink.js';
import { Connection, type ConnectionOptions } from './connection.js';

export class KafkaServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly sink: RequestSink,
    private readonly opts: ConnectionOptions,
  ) {
    this.server = createServer({ noDelay: true }, (socket: Socket) => this.accept(socket));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private accept(socket: Socket): void {
    const conn = new Connection(socket, this.sink, this.opts);
    this.connections.add(conn);
    socket.on('close', () => this.connections.delete(conn));
  }

  /** Stops accepting and reading; resolves once in-flight requests are answered or `graceMs` passed. */
  async drain(graceMs: number): Promise<void> {
    // close() stops accepting at once; its callback waits for every socket, which closeAll() ends.
    this.server.close();
    for (const c of this.connections) c.stopReading();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.connections].map((c) => c.whenIdle())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Closes every connection. */
  closeAll(): void {
    for (const c of this.connections) c.close();
    this.connections.clear();
  }
}
