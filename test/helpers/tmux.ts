// A real pseudo-terminal for CLI tests: a private tmux server runs one command in a pane of fixed
// size; tests type keys and read the screen as a person sees it (wrapped lines joined).
import { execFileSync, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export const HAS_TMUX = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
// .ci/run installs tmux; without it the terminal tests are skipped, and say so once.
if (!HAS_TMUX) console.warn('tmux is not installed: skipping the CLI tests that need a real terminal');

let counter = 0;

export class Pane {
  private constructor(
    private readonly socket: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Runs `command` (a shell command line) in a new pane. After it ends the pane shows
   * `[exit N]` and stays, so the screen and the exit code can still be read.
   */
  static start(command: string, env: Record<string, string>, size = { width: 100, height: 40 }): Pane {
    const socket = `exai-test-${process.pid}-${++counter}`;
    const full: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TERM: 'xterm-256color',
      ...env,
    };
    const wrapped = `${command}; printf '[exit %s]\\n' "$?"; exec sleep 600`;
    execFileSync(
      'tmux',
      [
        '-L',
        socket,
        '-f',
        '/dev/null',
        'new-session',
        '-d',
        '-x',
        String(size.width),
        '-y',
        String(size.height),
        wrapped,
      ],
      { env: full },
    );
    return new Pane(socket, full);
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', env: this.env });
  }

  /** Types `text` literally (no key names). */
  type(text: string): void {
    this.tmux(['send-keys', '-l', text]);
  }

  /** Sends key names: Enter, C-c, C-d. */
  keys(...names: string[]): void {
    this.tmux(['send-keys', ...names]);
  }

  /** The screen, wrapped lines joined, trailing blank lines dropped. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-200']).replace(/\s+$/, '');
  }

  /** Polls the screen until `test` matches it; throws with the screen after `timeoutMs`. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const match = typeof test === 'function' ? test : (s: string) => test.test(s);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (match(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${String(test)}; the screen:\n${screen}`);
      await sleep(50);
    }
  }

  /** Waits for the command to end; its exit code and the screen without the `[exit N]` line. */
  async exit(timeoutMs = 15_000): Promise<{ code: number; screen: string }> {
    const screen = await this.waitFor(/\[exit \d+\]$/, timeoutMs);
    const code = Number(/\[exit (\d+)\]$/.exec(screen)?.[1]);
    return { code, screen: screen.replace(/\n?\[exit \d+\]$/, '') };
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { env: this.env });
  }
}
