// Help text beyond the options: environment, .env, exit codes, and the fault language.

export const ENVIRONMENT_HELP = `
Environment (a .env file in the working directory is read too; the real environment wins):
  GLM_API_KEY, KIMI_API_KEY                 provider keys (none needed with --emulator)
  GLM_ENDPOINT                              global (default), china, coding (GLM Coding Plan), coding-china
  KIMI_ENDPOINT                             global (default), china
  GLM_BASE_URL, KIMI_BASE_URL               any OpenAI-compatible base URL (overrides the endpoint)
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
  error-frame:N[,code=C]   send the provider's in-band error frame after N chunks (GLM code 1302,
                           1113, ...; Kimi an error type such as rate_limit_reached_error)
  finish:R,after=N         end the answer after N chunks with finish_reason R (network_error,
                           sensitive, content_filter, ...)
  truncate:N               end the response after N chunks without a finish
  no-done                  finish without data: [DONE]
  refuse-stream[:json|status|unsupported]  refuse streaming: answer whole (json), 503 (status), or
                           a 400 saying the model does not stream (unsupported)
  break-tool-call[:N]      cut the connection inside a tool call, after N tool-call chunks
  tool-calls-no-call       end with finish_reason tool_calls but leave the call out
  tool-id-change           give every tool-call fragment a new id
  hang                     accept the request and never answer
  none                     answer normally
Parameters for any fault: times=N (the next N requests), only-stream (streaming requests only),
words=N, pace-ms=MS, tokens-per-chunk=N, code=C and message=M (status, error-frame: the provider's
code), leading-newline (GLM's first content "\n"), no-text (no answer text), same-spot (a
continuation meets the fault again at once), body=<JSON> (status: the error body; must come last).
Examples:
  exai emulator --fault drop:5                        every stream breaks after 5 chunks
  exai emulator --fault status:429,retry-after=1,times=2   two 429s, then normal answers
  exai emulator --fault error-frame:0,code=1302,times=1    GLM's concurrency limit once
  exai emulator --fault finish:network_error,after=8       GLM inference fails mid-answer
  exai emulator --reasoning --tools --pace-ms 50
`;
