// Provider-shaped error bodies: GLM `{"error":{"code":"<digits>","message"}}`, Kimi
// `{"error":{"message","type"}}`, for HTTP errors and in-band stream error frames. Pure.
import { STATUS_CODES } from 'node:http';
import type { Json } from '../json.js';
import type { ProviderName } from '../types.js';

export type ErrorReason = 'auth' | 'invalid-json' | 'messages' | 'too-large' | 'not-found';

const glm = (code: string, message: string): Json => ({ error: { code, message } });
const kimi = (type: string, message: string): Json => ({ error: { message, type } });

const GLM_OVERLOADED = glm('1305', 'The service may be temporarily overloaded, please try again later');
const KIMI_OVERLOADED = kimi(
  'engine_overloaded_error',
  'The engine is currently overloaded, please try again later',
);

/** The body a provider sends for a request it rejects before generating anything. */
export function requestError(provider: ProviderName, reason: ErrorReason, detail = ''): Json {
  if (provider === 'glm') {
    switch (reason) {
      case 'auth':
        return glm(
          '1002',
          'Invalid Authentication Token, please confirm the correct transmission of the Authentication Token',
        );
      case 'invalid-json':
        return glm('1210', 'Invalid API parameter, please check the documentation.');
      case 'messages':
        return glm('1214', 'The messages parameter is illegal. Please check the documentation.');
      case 'too-large':
        return glm('1261', 'Prompt too long');
      case 'not-found':
        return glm('404', 'Not Found');
    }
  }
  switch (reason) {
    case 'auth':
      return kimi('invalid_authentication_error', 'Invalid Authentication');
    case 'invalid-json':
    case 'messages':
      return kimi('invalid_request_error', `Invalid request: ${detail}`);
    case 'too-large':
      return kimi('invalid_request_error', 'Invalid request: request body too large');
    case 'not-found':
      return kimi('resource_not_found_error', 'Not found');
  }
}

/** Unknown model: GLM answers 400 with code 1211, Kimi 404 `resource_not_found_error`. */
export function unknownModel(provider: ProviderName, model: string): { status: number; body: Json } {
  return provider === 'glm'
    ? { status: 400, body: glm('1211', 'Unknown Model, please check the model code.') }
    : {
        status: 404,
        body: kimi('resource_not_found_error', `Not found the model ${model} or Permission denied`),
      };
}

/** The body for a scripted HTTP error status. */
export function statusError(provider: ProviderName, status: number): Json {
  const text = STATUS_CODES[status] ?? 'Error';
  if (provider === 'glm') {
    if (status === 429) return GLM_OVERLOADED;
    if (status === 401) return requestError('glm', 'auth');
    return glm(String(status), status >= 500 ? 'Internal Server Error' : text);
  }
  switch (status) {
    case 400:
      return kimi('invalid_request_error', 'Invalid request: rejected by the emulator');
    case 401:
      return requestError('kimi', 'auth');
    case 403:
      return kimi('permission_denied_error', 'The API you are accessing is not open');
    case 404:
      return kimi('resource_not_found_error', 'Not found');
    case 429:
      return KIMI_OVERLOADED;
    case 503:
      return kimi('server_unavailable', 'The server is temporarily unavailable, please try again later');
    default:
      return kimi('server_error', status >= 500 ? 'Internal server error' : text);
  }
}

// Gateways in front of both providers answer 502/504 with HTML, so clients must cope with it.
export function gatewayHtml(status: number): string {
  const text = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${text}</title></head>\r\n<body>\r\n<center><h1>${text}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/** Typical messages for provider codes (research notes on both providers' error bodies). */
const MESSAGES: Record<ProviderName, Record<string, string>> = {
  glm: {
    '1002':
      'Invalid Authentication Token, please confirm the correct transmission of the Authentication Token',
    '1113': 'Insufficient balance or no resource package. Please recharge.',
    '1211': 'Unknown Model, please check the model code.',
    '1261': 'Prompt too long',
    '1301':
      'System detected potentially unsafe or sensitive content in input or generation. Please avoid using prompts that may generate sensitive content. Thank you for your cooperation.',
    '1302': 'High concurrency usage of this API, please reduce concurrency or try again later',
    '1303': 'High frequency usage of this API, please reduce frequency or try again later',
    '1305': 'The service may be temporarily overloaded, please try again later',
  },
  kimi: {
    invalid_authentication_error: 'Invalid Authentication',
    exceeded_current_quota_error:
      'Your account is suspended due to insufficient balance, please recharge your account or check your plan and billing details',
    rate_limit_reached_error:
      'Your account org-emulator request reached organization max concurrency: 1, please try again after 1 seconds',
    engine_overloaded_error: 'The engine is currently overloaded, please try again later',
  },
};

/** A provider-shaped error body for `code` (GLM digits, Kimi an error type). */
export function codeError(provider: ProviderName, code: string, message?: string): Json {
  const text = message ?? MESSAGES[provider][code] ?? `emulated error ${code}`;
  return provider === 'glm' ? glm(code, text) : kimi(code, text);
}

/** A 400 refusing `stream: true` (wording as OpenAI-compatible servers put it; synthesised). */
export function streamUnsupported(provider: ProviderName, model: string): Json {
  return provider === 'glm'
    ? glm('1210', `The model ${model} does not support stream output, please call it with stream=false`)
    : kimi('invalid_request_error', `Invalid request: the model ${model} does not support streaming`);
}

/**
 * An in-band error frame's JSON, sent as `data: ...` after HTTP 200. GLM puts the request id
 * beside the error; Kimi's frames (undocumented) carry the error alone.
 */
export function errorFrame(
  provider: ProviderName,
  code?: string,
  message?: string,
  requestId?: string,
): Json {
  if (code === undefined) return provider === 'glm' ? withId(GLM_OVERLOADED, requestId) : KIMI_OVERLOADED;
  const body = codeError(provider, code, message);
  return provider === 'glm' ? withId(body, requestId) : body;
}

const withId = (body: Json, requestId: string | undefined): Json =>
  requestId === undefined ? body : { ...body, request_id: requestId };
