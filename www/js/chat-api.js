// The REST side of the chat's browser client: the calls of the wire
// contract (README.md, "The API"), for one customer or agent, with a
// customer's silent token refresh. Used by chat-client.js; plain
// JavaScript, an ES module.

export const API_BASE = '/api/v1';

/** A failed REST call: the HTTP status and the contract's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  /** Whether the token was refused: missing, unknown, expired or revoked. */
  get isTokenProblem() {
    return this.status === 401 && (this.code === 'TOKEN_EXPIRED' || this.code === 'MISSING_TOKEN');
  }

  /** Whether the server was not reached or failed: worth trying again later. */
  get isTransient() {
    return this.status === 0 || this.status >= 500;
  }
}

/* One JSON call; resolves to the parsed answer (null for 204), or throws ApiError. */
async function fetchJson(base, method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(base + path, init);
  } catch (err) {
    throw new ApiError(0, 'NETWORK', 'The server could not be reached.');
  }
  let data = null;
  const text = await res.text().catch(() => '');
  if (text !== '') {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return data;
  const err = data !== null && typeof data.error === 'object' && data.error !== null ? data.error : {};
  const retry = Number.parseInt(res.headers.get('Retry-After') || '', 10);
  throw new ApiError(res.status, err.code || `HTTP_${res.status}`,
    err.message || `The server answered ${res.status}.`, Number.isFinite(retry) ? retry : null);
}

/**
 * The REST side, for one customer or agent.
 *   options.userType     'customer' or 'agent'
 *   options.credentials  {token} for an agent; {customerId, channel, token, refreshToken} for a customer
 *   options.onCredentials(credentials)  called after a token refresh, to store the new token
 *   options.base         the API's base path, '/api/v1'
 * A customer's call that meets an expired token refreshes it once and tries again.
 */
export class ChatApi {
  constructor(options = {}) {
    this.base = options.base || API_BASE;
    this.userType = options.userType || 'customer';
    this.credentials = { ...(options.credentials || {}) };
    this.onCredentials = options.onCredentials || (() => {});
    this.refreshing = null;
  }

  get token() {
    return this.credentials.token;
  }

  /** POST /customers: a new customer with its tokens (email and consent optional). */
  static createCustomer({ name, channel = 'WEB', metadata, email, consent }, base = API_BASE) {
    const body = { name, channel };
    if (metadata !== undefined) body.metadata = metadata;
    if (email !== undefined) body.email = email;
    if (consent !== undefined) body.consent = consent;
    return fetchJson(base, 'POST', '/customers', { body });
  }

  /**
   * GET /availability: whether the chat is open now and why not, the
   * business hours, the pre-chat form's fields. No token needed.
   */
  static availability(base = API_BASE) {
    return fetchJson(base, 'GET', '/availability');
  }

  /** POST /customers/resume: the customer of a link from a mail, its tokens and its sessionId. */
  static resume(code, base = API_BASE) {
    return fetchJson(base, 'POST', '/customers/resume', { body: { code } });
  }

  /** POST /public/login: {token, expiresAt, agent}. */
  static login(username, password, base = API_BASE) {
    return fetchJson(base, 'POST', '/public/login', { body: { username, password } });
  }

  /** An authenticated call; resolves to the answer's JSON. */
  async call(method, path, body) {
    const token = this.token;
    try {
      return await fetchJson(this.base, method, path, { token, body });
    } catch (err) {
      if (!(err instanceof ApiError) || !err.isTokenProblem || !this.canRefresh()) throw err;
      if (this.token === token) await this.refresh();
      return fetchJson(this.base, method, path, { token: this.token, body });
    }
  }

  canRefresh() {
    const c = this.credentials;
    return this.userType === 'customer' && Boolean(c.refreshToken) && c.customerId !== undefined;
  }

  /**
   * A customer's new access token from POST /customers/token; one request at
   * a time however many callers ask. Throws ApiError when refused.
   */
  refresh() {
    if (this.refreshing !== null) return this.refreshing;
    const { customerId, channel, refreshToken } = this.credentials;
    this.refreshing = (async () => {
      try {
        if (!this.canRefresh()) throw new ApiError(401, 'TOKEN_EXPIRED', 'No refresh token.');
        const reply = await fetchJson(this.base, 'POST', '/customers/token',
          { body: { customerId, channel, refreshToken } });
        this.credentials.token = reply.token;
        this.credentials.expiresAt = reply.expiresAt;
        this.onCredentials({ ...this.credentials });
        return reply.token;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * Whether the token still works, asked of GET /me without refreshing:
   * 'valid', 'invalid' (401) or 'unknown' (server unreachable or failing).
   */
  async probe() {
    try {
      await fetchJson(this.base, 'GET', '/me', { token: this.token });
      return 'valid';
    } catch (err) {
      return err instanceof ApiError && err.status === 401 ? 'invalid' : 'unknown';
    }
  }

  me() { return this.call('GET', '/me'); }
  logout() { return fetchJson(this.base, 'POST', '/logout', { token: this.token }); }
  /** POST /sessions, with an optional subject and the visitor's context ({url, title, ...}). */
  createSession(subject, { context } = {}) {
    const body = {};
    if (subject) body.subject = subject;
    if (context && Object.keys(context).length > 0) body.context = context;
    return this.call('POST', '/sessions', Object.keys(body).length > 0 ? body : undefined);
  }
  /** POST /sessions/{id}/context: where the visitor is now. */
  updateContext(id, context) { return this.call('POST', `/sessions/${id}/context`, { context }); }
  /** POST /leave-message: {session, message}; the email is required. */
  leaveMessage({ email, text, clientMsgId }) {
    const body = { email, text };
    if (clientMsgId !== undefined) body.clientMsgId = clientMsgId;
    return this.call('POST', '/leave-message', body);
  }
  /** POST /sessions/{id}/transcript: the conversation by mail, to email or the customer's own. */
  requestTranscript(id, email) {
    return this.call('POST', `/sessions/${id}/transcript`, email ? { email } : {});
  }
  listSessions(status) {
    return this.call('GET', status ? `/sessions?status=${encodeURIComponent(status)}` : '/sessions');
  }
  getSession(id) { return this.call('GET', `/sessions/${id}`); }
  /** {messages, hasMore}: the newest `limit` messages, or those before message `before`. */
  messages(id, { before, after, limit = 50 } = {}) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (after !== undefined) q.set('after', String(after));
    else q.set('before', String(before !== undefined ? before : Number.MAX_SAFE_INTEGER));
    return this.call('GET', `/sessions/${id}/messages?${q}`);
  }
  claim(id) { return this.call('POST', `/sessions/${id}/claim`); }
  transfer(id, agentId) { return this.call('POST', `/sessions/${id}/transfer`, { agentId }); }
  close(id) { return this.call('POST', `/sessions/${id}/close`); }
}
