// Interface strings. The language comes from the agent's choice, else the browser's; Persian and
// Arabic lay the whole console out right to left.

const STRINGS = {
  en: {
    cc: 'Cc (email addresses)', bcc: 'Bcc', show_original: 'Show the whole email',
    images_held_back: 'Remote images are held back: the sender could see when you opened this.', load_images: 'Load images',
    unverified: 'unverified', sign_in: 'Sign in', email: 'Email', password: 'Password', sign_out: 'Sign out',
    mine: 'Mine', unassigned: 'Unassigned', all: 'All', inboxes: 'Inboxes', settings: 'Settings',
    status: 'Status', open: 'Open', pending: 'Pending', snoozed: 'Snoozed', resolved: 'Resolved',
    label: 'Label', no_conversations: 'No conversations here.', pick_conversation: 'Pick a conversation, or press j.',
    reply: 'Reply', note: 'Private note', send: 'Send', attach: 'Attach',
    reply_placeholder: 'Write a reply… (/ for canned responses, Enter sends, Shift+Enter new line)',
    note_placeholder: 'Write a note only agents see…',
    assignee: 'Assignee', nobody: 'Nobody', team: 'Team', no_team: 'No team',
    resolve: 'Resolve', reopen: 'Reopen', snooze: 'Snooze', snooze_1h: 'For an hour', snooze_tomorrow: 'Until tomorrow',
    labels: 'Labels', add_label: 'Add a label', contact: 'Contact', identities: 'Identities',
    attributes: 'Attributes', past_conversations: 'Past conversations',
    online: 'Online', busy: 'Busy', offline: 'Offline',
    live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', retry_in: 'Offline, retrying in {s} s',
    shortcuts: 'Keyboard shortcuts', new_message: 'New message from {name}',
    routing: 'Routing', mode: 'Mode', manual: 'Manual (shared queue)', round_robin: 'Round robin', balanced: 'Balanced',
    sticky: 'Sticky to the last agent', save: 'Save', saved: 'Saved', capacity: 'Capacity',
    queue: 'Waiting queue', waiting_since: 'Waiting since', embed: 'Paste this on your site',
    delivery_queued: 'Sending', delivery_sent: 'Sent', delivery_delivered: 'Delivered', delivery_read: 'Read', delivery_failed: 'Failed',
    you: 'You', customer: 'Customer', language: 'Language', load_failed: 'Could not load: {m}',
  },
  fa: {
    cc: 'رونوشت', bcc: 'رونوشت پنهان', show_original: 'نمایش کامل ایمیل',
    images_held_back: 'تصاویر راه دور بارگذاری نشده‌اند: فرستنده می‌تواند ببیند چه زمانی این را باز کرده‌اید.', load_images: 'بارگذاری تصاویر',
    unverified: 'تأییدنشده', sign_in: 'ورود', email: 'ایمیل', password: 'گذرواژه', sign_out: 'خروج',
    mine: 'مال من', unassigned: 'بدون مسئول', all: 'همه', inboxes: 'صندوق‌ها', settings: 'تنظیمات',
    status: 'وضعیت', open: 'باز', pending: 'در انتظار', snoozed: 'به تعویق', resolved: 'حل‌شده',
    label: 'برچسب', no_conversations: 'گفتگویی اینجا نیست.', pick_conversation: 'یک گفتگو را انتخاب کنید یا j را بزنید.',
    reply: 'پاسخ', note: 'یادداشت خصوصی', send: 'ارسال', attach: 'پیوست',
    reply_placeholder: 'پاسخ بنویسید… (/ برای پاسخ‌های آماده)', note_placeholder: 'یادداشتی که فقط همکاران می‌بینند…',
    assignee: 'مسئول', nobody: 'هیچ‌کس', team: 'تیم', no_team: 'بدون تیم',
    resolve: 'حل شد', reopen: 'بازگشایی', snooze: 'تعویق', snooze_1h: 'یک ساعت', snooze_tomorrow: 'تا فردا',
    labels: 'برچسب‌ها', add_label: 'افزودن برچسب', contact: 'مخاطب', identities: 'شناسه‌ها',
    attributes: 'ویژگی‌ها', past_conversations: 'گفتگوهای پیشین',
    online: 'آنلاین', busy: 'مشغول', offline: 'آفلاین',
    live: 'زنده', connecting: 'در حال اتصال…', reconnecting: 'اتصال دوباره…', retry_in: 'قطع، تلاش دوباره تا {s} ثانیه',
    shortcuts: 'میان‌برهای صفحه‌کلید', new_message: 'پیام تازه از {name}',
    routing: 'مسیریابی', mode: 'روش', manual: 'دستی (صف مشترک)', round_robin: 'نوبتی', balanced: 'متوازن',
    sticky: 'به آخرین کارشناس', save: 'ذخیره', saved: 'ذخیره شد', capacity: 'ظرفیت',
    queue: 'صف انتظار', waiting_since: 'در انتظار از', embed: 'این را در سایت خود بگذارید',
    delivery_queued: 'در حال ارسال', delivery_sent: 'ارسال شد', delivery_delivered: 'رسید', delivery_read: 'خوانده شد', delivery_failed: 'ناموفق',
    you: 'شما', customer: 'مشتری', language: 'زبان', load_failed: 'بارگذاری نشد: {m}',
  },
  ar: {
    cc: 'نسخة إلى', bcc: 'نسخة مخفية', show_original: 'عرض البريد كاملًا',
    images_held_back: 'الصور البعيدة محجوبة: قد يعرف المرسل متى فتحت هذه الرسالة.', load_images: 'تحميل الصور',
    unverified: 'غير مُتحقَّق منه', sign_in: 'تسجيل الدخول', email: 'البريد الإلكتروني', password: 'كلمة المرور', sign_out: 'خروج',
    mine: 'محادثاتي', unassigned: 'غير مسندة', all: 'الكل', inboxes: 'صناديق الوارد', settings: 'الإعدادات',
    status: 'الحالة', open: 'مفتوحة', pending: 'معلقة', snoozed: 'مؤجلة', resolved: 'محلولة',
    label: 'وسم', no_conversations: 'لا توجد محادثات.', pick_conversation: 'اختر محادثة أو اضغط j.',
    reply: 'رد', note: 'ملاحظة خاصة', send: 'إرسال', attach: 'إرفاق',
    reply_placeholder: 'اكتب ردًا… (/ للردود الجاهزة)', note_placeholder: 'ملاحظة يراها الوكلاء فقط…',
    assignee: 'المسؤول', nobody: 'لا أحد', team: 'الفريق', no_team: 'بلا فريق',
    resolve: 'حل', reopen: 'إعادة فتح', snooze: 'تأجيل', snooze_1h: 'ساعة', snooze_tomorrow: 'حتى الغد',
    labels: 'الوسوم', add_label: 'إضافة وسم', contact: 'جهة الاتصال', identities: 'المعرّفات',
    attributes: 'الخصائص', past_conversations: 'محادثات سابقة',
    online: 'متصل', busy: 'مشغول', offline: 'غير متصل',
    live: 'مباشر', connecting: 'جارٍ الاتصال…', reconnecting: 'إعادة الاتصال…', retry_in: 'غير متصل، إعادة المحاولة خلال {s} ث',
    shortcuts: 'اختصارات لوحة المفاتيح', new_message: 'رسالة جديدة من {name}',
    routing: 'التوجيه', mode: 'الطريقة', manual: 'يدوي (طابور مشترك)', round_robin: 'بالتناوب', balanced: 'متوازن',
    sticky: 'إلى آخر وكيل', save: 'حفظ', saved: 'تم الحفظ', capacity: 'السعة',
    queue: 'طابور الانتظار', waiting_since: 'ينتظر منذ', embed: 'الصق هذا في موقعك',
    delivery_queued: 'جارٍ الإرسال', delivery_sent: 'أُرسلت', delivery_delivered: 'سُلّمت', delivery_read: 'قُرئت', delivery_failed: 'فشلت',
    you: 'أنت', customer: 'العميل', language: 'اللغة', load_failed: 'تعذر التحميل: {m}',
  },
};

export const LANGUAGES = { en: 'English', fa: 'فارسی', ar: 'العربية' };
const RTL = new Set(['fa', 'ar']);
let current = 'en';

export function setLocale(preferred) {
  const wanted = [preferred, localStorage.getItem('switchboard.locale'), ...navigator.languages]
    .filter(Boolean).map((l) => l.slice(0, 2).toLowerCase());
  current = wanted.find((l) => STRINGS[l]) || 'en';
  if (preferred) localStorage.setItem('switchboard.locale', current);
  document.documentElement.lang = current;
  document.documentElement.dir = RTL.has(current) ? 'rtl' : 'ltr';
  return current;
}

export function locale() { return current; }

export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}
