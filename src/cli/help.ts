// Help text beyond the options: environment, .env, exit codes, and the fault language.

export const ENVIRONMENT_HELP = `
Environment (a .env file in the working directory is read too; the real environment wins):
  GLM_API_KEY, KIMI_API_KEY                 provider keys (none needed with --emulator)
  GLM_BASE_URL, KIMI_BASE_URL               any OpenAI-compatible base URL
  GLM_DEFAULT_MODEL, KIMI_DEFAULT_MODEL     the model used when --model is not given
  GLM_STREAM_ENABLED, KIMI_STREAM_ENABLED   false: ask without streaming
  EXAI_FIRST_TOKEN_TIMEOUT_MS, EXAI_IDLE_TIMEOUT_MS, EXAI_TOTAL_TIMEOUT_MS, EXAI_MAX_RETRIES
  EXAI_LOG_LEVEL                            debug, info (default), warn, error, silent
  EXAI_LOG_FORMAT                           human (default when stderr is a terminal) or json
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY         proxy for requests to the providers
  NO_COLOR                                  no spinner and no dim text on the terminal
  The README's Configuration section lists every variable.

Exit codes:
  0 ok, 1 the request failed, 2 usage or configuration error, 130 interrupted by Ctrl-C
`;

export const CHAT_HELP = `
Output: the answer goes to stdout, exactly as the model wrote it when stdout is piped or redirected
(a terminal gets a final newline if the answer lacks one); reasoning, the spinner, warnings and the
stats line go to stderr.

Interactive (-i): each line you type is a turn of one conversation. Ctrl-C cancels the answer being
written and keeps the session; Ctrl-D or /exit leaves. Commands: /model <id>, /system <text>,
/reset (forget the conversation), /help.

Examples:
  exai chat --emulator "Why does streaming matter?"     no key needed
  exai chat --model kimi-k2-0905-preview "Hello"
  git diff | exai chat --system "Review this diff" -
  exai chat -i --emulator
${ENVIRONMENT_HELP}`;

export const EMULATOR_HELP = `
Faults (--fault, repeatable): each applies to the next chat request, in order; the last one, unless
it has times=N, stays in force for every later request.
  drop:N                   cut the connection after N chunks
  status:S[,retry-after=T] answer HTTP S (400-599), optionally with Retry-After: T
  stall:MS[,after=N]       go silent for MS ms, before the first chunk or after N chunks
  stall,before=MS          wait MS ms before the first chunk (same as stall:MS)
  malformed:N              send a broken frame after N chunks
  error-frame:N            send the provider's in-band error frame after N chunks
  truncate:N               end the response after N chunks without a finish
  no-done                  finish without data: [DONE]
  refuse-stream[:json|status]  refuse streaming: answer whole (json) or 503 (status)
  hang                     accept the request and never answer
  none                     answer normally
Parameters for any fault: times=N (the next N requests), only-stream (streaming requests only),
words=N, pace-ms=MS, tokens-per-chunk=N, body=<JSON> (status: the error body; must come last).
Examples:
  exai emulator --fault drop:5                        every stream breaks after 5 chunks
  exai emulator --fault status:429,retry-after=1,times=2   two 429s, then normal answers
  exai emulator --reasoning --tools --pace-ms 50
`;
