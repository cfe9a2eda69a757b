// The REST API under /api/v1 with the signed-in agent's token.

const TOKEN_KEY = 'switchboard.token';

export class ApiError extends Error {
  // `field`: with some 422s, the path of the field in the request body the message is about.
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
  onExpired: () => {},
};

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    // A refused sign-in or invitation link is an answer to show, not a session that ended.
    if (response.status === 401 && !path.startsWith('/auth/')) session.onExpired();
    const error = data.error || {};
    throw new ApiError(
      response.status,
      error.code || 'http_error',
      error.message || response.statusText,
      error.field,
    );
  }
  return data;
}

// Every page of a listing, up to `max` items.
export async function all(path, max = 1000) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && out.length < max);
  return out;
}
