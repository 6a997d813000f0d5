// A tiny SMTP server on loopback for the browser tests: accepts every message, keeps it, and
// decodes its text (one level of multipart, base64 or quoted-printable, as the server's mailer
// writes them) so a test can read the code the personal cabinet e-mails.
import { createServer } from 'node:net';

function decodeQuotedPrintable(s) {
  const bytes = [];
  const text = s.replace(/=\r?\n/g, '');  // soft line breaks
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function splitHead(part) {
  const at = part.search(/\r?\n\r?\n/);
  if (at < 0) return { head: part, body: '' };
  return { head: part.slice(0, at), body: part.slice(at).replace(/^\r?\n\r?\n/, '') };
}

function header(head, name) {
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  return unfolded.match(new RegExp(`^${name}:\\s*(.*)$`, 'im'))?.[1] ?? '';
}

function decodeBody(head, body) {
  const encoding = header(head, 'content-transfer-encoding').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

// The text/plain parts of a raw message, decoded and joined.
export function decodedText(raw) {
  const { head, body } = splitHead(raw);
  const type = header(head, 'content-type');
  const boundary = type.match(/boundary="?([^";]+)"?/i)?.[1];
  if (!/^multipart\//i.test(type) || !boundary) return decodeBody(head, body);
  return body.split(`--${boundary}`).slice(1)
    .filter((p) => !p.startsWith('--'))
    .map((p) => splitHead(p.replace(/^\r?\n/, '')))
    .filter((p) => /^(text\/plain|)$/i.test(header(p.head, 'content-type').split(';')[0].trim())
      && !/attachment/i.test(header(p.head, 'content-disposition')))
    .map((p) => decodeBody(p.head, p.body))
    .join('\n');
}

export async function startSmtpSink() {
  const messages = [];
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    let inData = false;
    let current = { rcpt: [], data: '' };
    socket.setEncoding('utf8');
    socket.write('220 sink.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk;
      let eol;
      while ((eol = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push({ ...current, text: decodedText(current.data) });
            current = { rcpt: [], data: '' };
            socket.write('250 2.0.0 queued\r\n');
          } else {
            current.data += (line.startsWith('..') ? line.slice(1) : line) + '\r\n';
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 sink.test\r\n');
        else if (verb === 'RCPT') {
          current.rcpt.push((line.match(/<([^>]*)>/)?.[1] ?? '').toLowerCase());
          socket.write('250 2.1.5 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 end with <CRLF>.<CRLF>\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 2.0.0 bye\r\n');
        } else socket.write('250 2.0.0 ok\r\n');  // MAIL, RSET, NOOP
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    // The last six-digit code sent to `address` after `since` messages, or null.
    lastCode(address, since = 0) {
      let code = null;
      for (const m of messages.slice(since)) {
        if (!m.rcpt.includes(address.toLowerCase())) continue;
        code = m.text.match(/: (\d{6})\b/)?.[1] ?? code;
      }
      return code;
    },
    stop: () => new Promise((done) => {
      for (const s of sockets) s.destroy();
      server.close(done);
    }),
  };
}
