// What customers said of their conversations (CSAT): a rating drawn as stars with its comment,
// for the thread's header and the contact pane. Ratings come with GET /conversations/{id} and
// GET /contacts/{id}, and live as `conversation.rated` events.

import { h } from '../shared/dom.js';
import { defineStrings, locale, t } from './i18n.js';
import { clock } from './time.js';

defineStrings({
  en: {
    csat_rated: 'Rated {score} of 5',
    csat_ratings: 'Ratings',
    csat_conversation: 'Conversation #{id}',
  },
  fa: {
    csat_rated: 'امتیاز {score} از ۵',
    csat_ratings: 'امتیازها',
    csat_conversation: 'گفتگوی #{id}',
  },
  ar: {
    csat_rated: 'التقييم {score} من 5',
    csat_ratings: 'التقييمات',
    csat_conversation: 'المحادثة #{id}',
  },
});

// Five stars, the given ones filled; read out as "Rated 4 of 5".
export function stars(score) {
  const label = t('csat_rated', { score });
  return h(
    'span',
    {
      class: 'csat-stars',
      role: 'img',
      'aria-label': label,
      title: label,
      dataset: { score: String(score) },
    },
    [1, 2, 3, 4, 5].map((n) => h('span', { class: n <= score ? 'on' : 'off', 'aria-hidden': 'true' }, '★')),
  );
}

// One rating on one line: stars, when, and the customer's comment in their own direction.
export function ratingLine(rating) {
  return h(
    'div',
    { class: 'csat' },
    stars(rating.score),
    h('time', {}, clock(rating.created_at, locale())),
    rating.comment ? h('q', { class: 'csat-comment', dir: 'auto' }, rating.comment) : null,
  );
}

// The contact pane's list: each rating with a link to its conversation.
export function contactRatings(ratings) {
  if (!ratings?.length) return null;
  return [
    h('h3', {}, t('csat_ratings')),
    h(
      'ul',
      { class: 'csat-list' },
      ratings.map((r) =>
        h(
          'li',
          {},
          h(
            'a',
            { href: `#/conversations/${r.conversation_id}` },
            t('csat_conversation', { id: r.conversation_id }),
          ),
          ratingLine(r),
        ),
      ),
    ),
  ];
}
