// Channel icons, drawn as inline SVG rather than emoji: many agents' machines lack a colour emoji
// font, and an SVG takes the text colour, so it follows the theme and high-contrast modes. The
// icon itself is hidden from screen readers; the channel's name beside it is what they read.

import { h } from '../shared/dom.js';
import { t } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';

// Each kind's drawing on a 24×24 grid, stroked with the current colour. Kinds registered later
// get the generic plug until they get a drawing of their own.
const DRAWINGS = {
  email: [
    ['rect', { x: 3, y: 5, width: 18, height: 14, rx: 2 }],
    ['path', { d: 'M3.5 6.5 12 13l8.5-6.5' }],
  ],
  web_chat: [['path', { d: 'M4 5h16v11H10l-5 4v-4H4z' }]],
  api: [['path', { d: 'M8 7l-5 5 5 5M16 7l5 5-5 5M14 4l-4 16' }]],
  sms: [
    ['rect', { x: 7, y: 2.5, width: 10, height: 19, rx: 2 }],
    ['path', { d: 'M11 18.5h2' }],
  ],
  whatsapp: [
    ['path', { d: 'M12 3.5a8.5 8.5 0 0 0-7.3 12.8L3.5 20.5l4.3-1.1A8.5 8.5 0 1 0 12 3.5z' }],
    ['path', { d: 'M9 8.5c0 3.5 3 6.5 6.5 6.5l.8-1.6-2-1-1 1c-1.2-.5-2.2-1.5-2.7-2.7l1-1-1-2z' }],
  ],
  messenger: [
    [
      'path',
      {
        d: 'M12 3.5c-4.7 0-8.5 3.4-8.5 7.7 0 2.4 1.2 4.5 3 6V20.5l3.1-1.7c.8.2 1.6.3 2.4.3 4.7 0 8.5-3.4 8.5-7.9S16.7 3.5 12 3.5z',
      },
    ],
    ['path', { d: 'M7.5 13l3-3.2 2.5 2 3.5-3.3' }],
  ],
  instagram: [
    ['rect', { x: 3.5, y: 3.5, width: 17, height: 17, rx: 5 }],
    ['circle', { cx: 12, cy: 12, r: 4 }],
    ['circle', { cx: 17, cy: 7, r: 0.8 }],
  ],
  telegram: [['path', { d: 'M21 4 3 11.2l6 2.3L11.3 20l3.2-4.3 4.5 3.3zM9 13.5 21 4' }]],
};

// Not a channel, but drawn the same way: the paper clip of attachments.
const ATTACHMENT = [
  [
    'path',
    { d: 'M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2a1.7 1.7 0 0 1-2.4-2.4L15 7' },
  ],
];

// The console's actions, on the same grid and stroke as the channels.
const ACTIONS = {
  send: [['path', { d: 'M4 12 20 4l-5 16-3.5-6.5zM11.5 13.5 20 4' }]],
  attach: ATTACHMENT,
  note: [
    ['path', { d: 'M5 4h10l4 4v12H5z' }],
    ['path', { d: 'M15 4v4h4M8.5 12.5h7M8.5 16h5' }],
  ],
  reply: [['path', { d: 'M10 6 4 12l6 6M4.5 12H14a6 6 0 0 1 6 6' }]],
  resolve: [
    ['circle', { cx: 12, cy: 12, r: 8.5 }],
    ['path', { d: 'm8 12.3 2.7 2.7L16.2 9.5' }],
  ],
  reopen: [['path', { d: 'M4.5 12a7.5 7.5 0 1 0 2.2-5.3M4.5 4v4.5H9' }]],
  assign: [
    ['circle', { cx: 10, cy: 8, r: 3.5 }],
    ['path', { d: 'M3.5 20a6.5 6.5 0 0 1 11.5-4.2M18 14v6M15 17h6' }],
  ],
  team: [
    ['circle', { cx: 9, cy: 8.5, r: 3 }],
    ['circle', { cx: 16.5, cy: 9.5, r: 2.5 }],
    ['path', { d: 'M3.5 19.5a5.5 5.5 0 0 1 11 0M14.5 14.3a4.5 4.5 0 0 1 6 4.2' }],
  ],
  snooze: [
    ['circle', { cx: 12, cy: 13, r: 7.5 }],
    ['path', { d: 'M12 9v4.5l2.5 1.5M4 5.5 6.5 3.5M20 5.5l-2.5-2' }],
  ],
  search: [
    ['circle', { cx: 10.5, cy: 10.5, r: 6.5 }],
    ['path', { d: 'm15.5 15.5 5 5' }],
  ],
  settings: [
    ['circle', { cx: 12, cy: 12, r: 3 }],
    [
      'path',
      {
        d: 'M12 2.8v2.4M12 18.8v2.4M21.2 12h-2.4M5.2 12H2.8M18.5 5.5l-1.7 1.7M7.2 16.8l-1.7 1.7M18.5 18.5l-1.7-1.7M7.2 7.2 5.5 5.5',
      },
    ],
    ['circle', { cx: 12, cy: 12, r: 6.5 }],
  ],
  menu: [['path', { d: 'M4 6.5h16M4 12h16M4 17.5h16' }]],
  back: [['path', { d: 'M15 5l-7 7 7 7' }]],
  close: [['path', { d: 'M6 6l12 12M18 6 6 18' }]],
  copy: [
    ['rect', { x: 8.5, y: 8.5, width: 12, height: 12, rx: 2 }],
    ['path', { d: 'M15.5 8.5V5.5a2 2 0 0 0-2-2h-8a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h3' }],
  ],
  info: [
    ['circle', { cx: 12, cy: 12, r: 8.5 }],
    ['path', { d: 'M12 11v5.5M12 7.6v.2' }],
  ],
  label: [
    ['path', { d: 'M3.5 12.5V4.5a1 1 0 0 1 1-1h8l8 8-9 9z' }],
    ['circle', { cx: 8, cy: 8, r: 1.3 }],
  ],
  signout: [
    ['path', { d: 'M14 4h4.5a1.5 1.5 0 0 1 1.5 1.5v13a1.5 1.5 0 0 1-1.5 1.5H14M10 8l-4 4 4 4M6 12h10' }],
  ],
  // An inbox that is not working: a triangle with an exclamation mark.
  warning: [
    ['path', { d: 'M12 3.5 21 19.5H3z' }],
    ['path', { d: 'M12 10v4.5M12 17.2v.2' }],
  ],
  // The contact pane's toggle: a card with a person on it.
  contact: [
    ['rect', { x: 3, y: 4.5, width: 18, height: 15, rx: 2 }],
    ['circle', { cx: 9, cy: 10.5, r: 2.3 }],
    ['path', { d: 'M5.5 16.5c.6-1.8 2-2.8 3.5-2.8s2.9 1 3.5 2.8M15 9.5h3M15 13h3' }],
  ],
};

const GENERIC = [['path', { d: 'M9 3v5M15 3v5M6.5 8h11v3.5a5.5 5.5 0 0 1-11 0zM12 17v4' }]];

// The kinds the hub knows a name for; the label of a kind registered later is its own name.
export function channelLabel(kind) {
  if (!kind) return t('channel_unknown');
  const key = `channel_${kind}`;
  const label = t(key);
  return label === key ? kind.replace(/_/g, ' ') : label;
}

// The bare icon: `aria-hidden`, never focusable (old Edge and IE focus SVGs otherwise).
export function channelSvg(kind) {
  return drawing(DRAWINGS[kind] || GENERIC);
}

// The paper clip beside attachments and the attach button (their text says what they are).
export function attachmentSvg() {
  return drawing(ATTACHMENT);
}

// An action's icon (`ACTIONS` above), hidden from screen readers: the button it sits in carries
// the name, as visible text or an aria-label. Icons that point (back) are mirrored in RTL by CSS.
export function actionSvg(name) {
  const svg = drawing(ACTIONS[name] || GENERIC);
  svg.classList.add(`icon-${name}`);
  return svg;
}

// A button with an icon and its name: shown beside the icon, or (`iconOnly`) given as the
// button's aria-label and tooltip.
export function iconButton(name, label, attrs = {}, { iconOnly = false } = {}) {
  const extra = iconOnly ? { 'aria-label': label, title: label } : {};
  return h(
    'button',
    {
      type: 'button',
      ...attrs,
      ...extra,
      class: `${attrs.class || ''} with-icon${iconOnly ? ' icon-only' : ''}`.trim(),
    },
    actionSvg(name),
    iconOnly ? null : h('span', { class: 'button-text' }, label),
  );
}

function drawing(shapes) {
  const svg = document.createElementNS(SVG, 'svg');
  const attrs = {
    viewBox: '0 0 24 24',
    width: '16',
    height: '16',
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': '1.8',
    'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
    'aria-hidden': 'true',
    focusable: 'false',
    class: 'icon',
  };
  for (const [name, value] of Object.entries(attrs)) svg.setAttribute(name, value);
  for (const [tag, shape] of shapes) {
    const el = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(shape)) el.setAttribute(name, String(value));
    svg.append(el);
  }
  return svg;
}

// The icon with the channel's name: `visible` shows the name beside it (the inbox form),
// otherwise it is there for screen readers only and as a tooltip (lists, message meta).
export function channelIcon(kind, { visible = false } = {}) {
  const label = channelLabel(kind);
  return h(
    'span',
    { class: 'channel', dataset: { kind: kind || 'unknown' }, title: visible ? undefined : label },
    channelSvg(kind),
    h('span', { class: visible ? 'channel-name' : 'sr-only' }, label),
  );
}
