// Times and numbers as agents read them (how long ago, a short clock time, a count), all through
// Intl with the console's language so that each language has one set of digits everywhere
// (Persian digits in Persian, never mixed with Latin ones), and a debounce for typing.

import { locale } from './i18n.js';

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function timeAgo(ms, lang = locale()) {
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'narrow' });
  const seconds = Math.round((ms - Date.now()) / 1000);
  const steps = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [7, 'day'],
    [4.35, 'week'],
    [12, 'month'],
  ];
  let value = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return rtf.format(value, unit);
    value = Math.round(value / size);
  }
  return rtf.format(value, 'year');
}

export function clock(ms, lang = locale()) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'short' }).format(ms);
}

export function num(n, lang = locale()) {
  return new Intl.NumberFormat(lang, { useGrouping: false }).format(n);
}
