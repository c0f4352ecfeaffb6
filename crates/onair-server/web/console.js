// onair console: channels, live figures, screenshots and recordings from the management API
// (Onair_Overview, refreshed every second), and actions through the seeds' interfaces: ban /
// unban (Live_Channel_SetStatus 0 / 1), cut (status 2), recording (Live_Tape_Start / Stop).
// With an API key on the server the page asks for it, keeps it for the tab only
// (sessionStorage) and signs every request: t = now + 60 s, sign = MD5(key + t).
'use strict';

const $ = (id) => document.getElementById(id);
const STATUS = { 0: ['idle', ''], 1: ['live', 'live'], 3: ['banned', 'banned'] };
let config = { signed: false, admin: false };
let key = sessionStorage.getItem('onair-api-key') || '';

async function api(iface, params = {}) {
  const q = new URLSearchParams({ interface: iface });
  if (config.appid) q.set('cmd', config.appid);
  for (const [k, v] of Object.entries(params)) q.set(`Param.s.${k}`, String(v));
  if (config.signed) {
    const t = Math.floor(Date.now() / 1000) + 60;
    q.set('t', String(t));
    q.set('sign', md5(key + t));
  }
  const reply = await fetch(`/common_access?${q}`, { cache: 'no-store' });
  const body = await reply.json().catch(() => ({ ret: reply.status, message: reply.statusText }));
  if (reply.status === 403) throw new Error(`the server refused the API key (${body.message})`);
  if (body.ret !== 0) throw new Error(body.message || `error ${body.ret}`);
  return body.output;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function act(label, run, danger = false) {
  return el('button', {
    class: danger ? 'danger' : null,
    'data-action': label,
    onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        await run();
        notice('');
      } catch (e) {
        notice(`${label}: ${e.message}`);
      }
      ev.target.disabled = false;
      refresh();
    },
  }, label);
}

function actions(c) {
  if (!config.admin) return [];
  const id = c.channel_id;
  const out = [];
  if (c.status === 3) out.push(act('unban', () => api('Live_Channel_SetStatus', { channel_id: id, status: 1 })));
  else out.push(act('ban', () => api('Live_Channel_SetStatus', { channel_id: id, status: 0 }), true));
  if (c.live) out.push(act('cut', () => api('Live_Channel_SetStatus', { channel_id: id, status: 2 }), true));
  if (c.tape_task_id) out.push(act('stop recording', () => api('Live_Tape_Stop', { channel_id: id, task_id: c.tape_task_id })));
  else out.push(act('record', () => api('Live_Tape_Start', { channel_id: id })));
  return out;
}

function row(c) {
  const [label, cls] = STATUS[c.status] || [String(c.status), ''];
  const l = c.live;
  return el('tr', { 'data-channel': c.channel_id, 'data-status': label },
    el('td', {}, el('a', { href: c.watch }, c.channel_id), el('div', { class: 'muted' }, c.app)),
    el('td', {}, el('span', { class: `status ${cls}` }, label)),
    el('td', {}, l ? l.client_ip : c.last_push_end ? el('span', { class: 'muted' }, `ended ${c.last_push_end}`) : ''),
    el('td', {}, l ? `${l.width ? `${l.width}x${l.height} · ` : ''}${l.fps} fps · ${l.kbps} kbps` : ''),
    el('td', {}, l ? String(l.players) : ''),
    el('td', {}, l ? l.start_time : ''),
    el('td', {}, c.screenshot ? el('a', { href: c.screenshot.url }, el('img', { class: 'shot', src: c.screenshot.url, alt: `${c.channel_id} at ${c.screenshot.time}`, title: c.screenshot.time })) : ''),
    el('td', {}, c.recordings.map((r) => el('div', {}, el('a', { href: r.url }, r.file_name), el('span', { class: 'muted' }, ` ${r.duration_s} s`)))),
    el('td', {}, el('div', { class: 'actions' }, actions(c))),
  );
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

let busy = false;
async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const { channels } = await api('Onair_Overview');
    $('channels').replaceChildren(...channels.map(row));
    if (!channels.length) notice('No channel yet: push to rtmp://<this host>/live/<stream>.');
    else if ($('notice').textContent.startsWith('No channel') || $('notice').textContent.startsWith('loading')) notice('');
  } catch (e) {
    $('channels').replaceChildren();
    notice(e.message);
  }
  busy = false;
}

async function start() {
  config = await fetch('/console/config', { cache: 'no-store' }).then((r) => r.json());
  $('mode').textContent = config.admin ? '' : 'read-only (start the server with --console-admin or --api-key to act)';
  if (config.signed) {
    $('keyform').hidden = false;
    $('key').value = key;
    $('keyform').addEventListener('submit', (ev) => {
      ev.preventDefault();
      key = $('key').value;
      sessionStorage.setItem('onair-api-key', key);
      refresh();
    });
    if (!key) notice('This server has an API key: enter it above to see and manage its channels.');
  }
  if (!config.signed || key) await refresh();
  setInterval(() => (!config.signed || key) && refresh(), 1000);
}

start();
