// What a person sees on stderr: a spinner with a transient status while waiting, dim text, and
// lines that never land in the middle of the answer or glued to a spinner frame. All decoration
// switches off when stderr is not a terminal or NO_COLOR is set.
import { fstatSync, type Stats } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

const READER_GRACE_MS = 50;

/** What the stream's file descriptor is (undefined for a stream without one, or one fstat refuses). */
function statOf(stream: NodeJS.WriteStream): Stats | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return undefined;
  try {
    return fstatSync(fd);
  } catch {
    return undefined;
  }
}

/** stdout is a pipe or socket (a program reads it), not a file or a device. */
function isPipe(stream: NodeJS.WriteStream): boolean {
  const stat = statOf(stream);
  return stat !== undefined && (stat.isFIFO() || stat.isSocket());
}

/** stdout and stderr are one open file or pipe (`2>&1`): both outputs land in one stream of lines. */
function sameFile(a: NodeJS.WriteStream, b: NodeJS.WriteStream): boolean {
  const sa = statOf(a);
  const sb = statOf(b);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface ScreenStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** Cuts `text` to one line of at most `width` columns (by code point, which is close enough here). */
export function oneLine(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length <= width ? flat : `${chars.slice(0, Math.max(1, width - 1)).join('')}…`;
}

export class Screen {
  /** stderr is a terminal and colour is allowed: spinner, dim text, status notes. */
  readonly decorated: boolean;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private label = '';
  private note = '';
  /** Answer text went to stdout and its last character was not a newline. */
  private answerOpen = false;
  private answerWritten = false;
  /** Reasoning went to stderr and its last character was not a newline. */
  private reasoningOpen = false;
  private held: string[] = [];

  constructor(streams: ScreenStreams, env: NodeJS.ProcessEnv = process.env) {
    this.stdout = streams.stdout;
    this.stderr = streams.stderr;
    this.decorated = streams.stderr.isTTY === true && env.NO_COLOR === undefined;
  }

  /** stdout and stderr are both terminals: an unfinished answer line is where stderr would write. */
  private get sharedTerminal(): boolean {
    return this.stdout.isTTY === true && this.stderr.isTTY === true;
  }

  private get width(): number {
    return Math.max(20, (this.stderr.columns || 80) - 1);
  }

  dim(text: string): string {
    return this.decorated ? `\x1b[2m${text}\x1b[22m` : text;
  }

  get spinning(): boolean {
    return this.timer !== undefined;
  }

  private draw(): void {
    const status = this.note ? `${this.label} (${this.note})` : this.label;
    const frame = FRAMES[this.frame++ % FRAMES.length];
    this.stderr.write(`\r\x1b[2K${frame} ${oneLine(status, this.width - 2)}`);
  }

  /** Shows (or relabels) the spinner; no-op when stderr is not decorated. */
  spin(label: string): void {
    if (!this.decorated) return;
    if (label !== this.label) this.note = '';
    this.label = label;
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(), 80);
      this.timer.unref();
    }
    this.draw();
  }

  /** A short status shown beside the spinner until the spinner stops (a retry, a fallback). */
  status(note: string): void {
    this.note = note;
    if (this.timer) this.draw();
  }

  stopSpin(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.note = '';
    this.stderr.write('\r\x1b[2K');
  }

  /** Records answer text written to stdout, so later stderr lines start on a line of their own. */
  wroteAnswer(text: string): void {
    if (!text) return;
    this.answerOpen = !text.endsWith('\n');
    this.answerWritten = true;
  }

  /** Writes reasoning (dimmed) to stderr, separated from the answer that follows. */
  reasoning(text: string): void {
    this.stopSpin();
    this.stderr.write(this.dim(text));
    this.reasoningOpen = !text.endsWith('\n');
  }

  /** Ends the reasoning block before the answer starts. */
  endReasoning(): void {
    if (!this.reasoningOpen) return;
    this.reasoningOpen = false;
    this.stderr.write('\n\n');
  }

  /**
   * A line for people on stderr. The spinner is cleared first and redrawn below it; while an
   * answer is being written to the same terminal the line is held until the answer ends.
   */
  line(text: string): void {
    if (this.answerOpen && this.sharedTerminal) {
      this.held.push(text);
      return;
    }
    const spinning = this.spinning;
    if (spinning) this.stderr.write('\r\x1b[2K');
    if (this.reasoningOpen) {
      this.stderr.write('\n');
      this.reasoningOpen = false;
    }
    this.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
    if (spinning) this.draw();
  }

  /**
   * Called when an answer is over: whatever stderr writes next starts at the beginning of a line.
   * On a terminal stdout the answer gets its missing final newline (it is the terminal's line, not
   * the answer's bytes); piped or redirected, stdout keeps the exact bytes. When only stderr is a
   * terminal and stdout a pipe, the reader may be showing the answer on that terminal
   * (`exai chat … | cat`), so stderr starts a new line; a file never shows there, so it does not.
   * When both go to one file or pipe (`2>&1`), stderr starts a new line there too: its newline,
   * not the answer's bytes.
   */
  async endAnswer(): Promise<void> {
    this.stopSpin();
    if (this.reasoningOpen) {
      this.stderr.write('\n');
      this.reasoningOpen = false;
    }
    if (this.answerWritten && !this.stdout.isTTY && this.stderr.isTTY && isPipe(this.stdout)) {
      // Two processes write to this terminal: give the reader a moment to show the answer's end
      // before the stats line, or it lands in the middle of it.
      await delay(READER_GRACE_MS);
      if (this.answerOpen) this.stderr.write('\n');
    } else if (this.answerOpen && this.stdout.isTTY) {
      this.stdout.write('\n');
    } else if (this.answerOpen && sameFile(this.stdout, this.stderr)) {
      this.stderr.write('\n');
    }
    this.answerOpen = false;
    this.answerWritten = false;
    const held = this.held;
    this.held = [];
    for (const text of held) this.line(text);
  }
}
