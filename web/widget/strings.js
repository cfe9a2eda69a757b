// What the widget says, per language. A language is picked from the script tag's data-locale,
// then the browser's languages; a missing key falls back to English.

export const STRINGS = {
  en: {
    title: 'Chat with us',
    placeholder: 'Write a message…',
    send: 'Send',
    start: 'Start chat',
    attach: 'Attach a file',
    typing: '{name} is typing…',
    queue: 'You are number {n} in the queue',
    read: 'Seen',
    away: 'We are away right now.',
    email_follow: 'Leave your email and we will reply there.',
    rate: 'How did we do?',
    thanks: 'Thank you for your rating!',
    comment: 'Anything to add? (optional)',
    close: 'Close',
    too_big: 'That file is too large.',
    bad_type: 'That file type is not allowed.',
    failed: 'Not sent. Retrying…',
    name: 'Name',
    email: 'Email',
    open_chat: 'Open chat',
    agent: 'Agent',
    required: 'Required',
  },
  fa: {
    title: 'گفتگو با ما',
    placeholder: 'پیام بنویسید…',
    send: 'ارسال',
    start: 'شروع گفتگو',
    attach: 'پیوست فایل',
    typing: '{name} در حال نوشتن…',
    queue: 'شما نفر {n} در صف هستید',
    read: 'دیده شد',
    away: 'اکنون در دسترس نیستیم.',
    email_follow: 'ایمیل خود را بگذارید تا همان‌جا پاسخ دهیم.',
    rate: 'کار ما چطور بود؟',
    thanks: 'از امتیاز شما سپاسگزاریم!',
    comment: 'نکته‌ای دارید؟ (اختیاری)',
    close: 'بستن',
    too_big: 'این فایل بیش از حد بزرگ است.',
    bad_type: 'این نوع فایل مجاز نیست.',
    failed: 'ارسال نشد. تلاش دوباره…',
    name: 'نام',
    email: 'ایمیل',
    open_chat: 'باز کردن گفتگو',
    agent: 'پشتیبان',
    required: 'الزامی',
  },
  ar: {
    title: 'تحدث معنا',
    placeholder: 'اكتب رسالة…',
    send: 'إرسال',
    start: 'ابدأ المحادثة',
    attach: 'إرفاق ملف',
    typing: '{name} يكتب…',
    queue: 'ترتيبك {n} في الطابور',
    read: 'قُرئت',
    away: 'نحن غير متاحين الآن.',
    email_follow: 'اترك بريدك الإلكتروني وسنرد عليك هناك.',
    rate: 'كيف كانت خدمتنا؟',
    thanks: 'شكرًا لتقييمك!',
    comment: 'هل من إضافة؟ (اختياري)',
    close: 'إغلاق',
    too_big: 'الملف كبير جدًا.',
    bad_type: 'نوع الملف غير مسموح.',
    failed: 'لم تُرسل. إعادة المحاولة…',
    name: 'الاسم',
    email: 'البريد الإلكتروني',
    open_chat: 'فتح المحادثة',
    agent: 'الوكيل',
    required: 'مطلوب',
  },
  el: {
    title: 'Συνομιλήστε μαζί μας',
    placeholder: 'Γράψτε ένα μήνυμα…',
    send: 'Αποστολή',
    start: 'Έναρξη συνομιλίας',
    attach: 'Επισύναψη αρχείου',
    typing: 'Ο/Η {name} πληκτρολογεί…',
    queue: 'Είστε {n}οι στην ουρά',
    read: 'Το είδαν',
    away: 'Δεν είμαστε διαθέσιμοι αυτή τη στιγμή.',
    email_follow: 'Αφήστε το email σας και θα σας απαντήσουμε εκεί.',
    rate: 'Πώς τα πήγαμε;',
    thanks: 'Ευχαριστούμε για τη βαθμολογία!',
    comment: 'Κάτι να προσθέσετε; (προαιρετικό)',
    close: 'Κλείσιμο',
    too_big: 'Το αρχείο είναι πολύ μεγάλο.',
    bad_type: 'Αυτός ο τύπος αρχείου δεν επιτρέπεται.',
    failed: 'Δεν στάλθηκε. Νέα προσπάθεια…',
    name: 'Όνομα',
    email: 'Email',
    open_chat: 'Άνοιγμα συνομιλίας',
    agent: 'Εκπρόσωπος',
    required: 'Υποχρεωτικό',
  },
};
// Languages written right to left: the panel mirrors and opens on the left.
const RIGHT_TO_LEFT = ['fa', 'ar'];

export function chooseLanguage(preferred) {
  const known = preferred.filter(Boolean).map((tag) => tag.slice(0, 2).toLowerCase());
  return known.find((lang) => STRINGS[lang]) || 'en';
}

export function isRightToLeft(lang) {
  return RIGHT_TO_LEFT.includes(lang);
}

// `t('queue', { n: 3 })`: the phrase in the visitor's language with its {placeholders} filled.
export function translator(lang) {
  return (key, vars = {}) =>
    (STRINGS[lang][key] || STRINGS.en[key]).replace(/\{(\w+)\}/g, (_, name) => vars[name]);
}
