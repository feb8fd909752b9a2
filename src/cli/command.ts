/**
 * What every `brook` subcommand is, and the one place that turns its failures into an exit code and
 * one readable line: UsageError exit 2 (with a pointer to --help), CliError and any other error exit 1.
 * Commands never print stack traces.
 */
import { CliError, UsageError } from './args.js';

export interface Command {
  /** The word after `brook` (or `perf produce` for nested ones). */
  name: string;
  /** One line for `brook --help`. */
  summary: string;
  /** Returns the exit code; throws UsageError / CliError for the usual failures. */
  run(argv: string[]): Promise<number>;
}

/** Runs `cmd`, mapping its errors to exit codes and single lines on stderr. */
export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  try {
    return await cmd.run(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`brook ${cmd.name}: ${e.message}\nRun 'brook ${cmd.name} --help' for its options.\n`);
      return 2;
    }
    const message = e instanceof CliError ? e.message : describeError(e);
    process.stderr.write(`brook ${cmd.name}: ${message}\n`);
    return 1;
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
