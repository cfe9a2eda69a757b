// The channels' setup fields in the console's language. The hub describes each channel's form
// (GET /api/v1/channels) in English; in Persian and Arabic the console says the labels and
// hints itself, keyed by the field's name (and, where a hint differs by channel, by kind and
// name). A field the console does not know yet keeps the hub's English, isolated in <bdi>.
// Provider names, product terms (SID, E.164, BotFather, Page ID) and examples stay as they are.

import { defineStrings, hasString, t } from './i18n.js';

defineStrings({
  fa: {
    field_provider: 'ارائه‌دهنده',
    field_from: 'فرستنده',
    field_account_sid: 'Account SID',
    field_auth_token: 'توکن احراز هویت (Auth token)',
    field_application_id: 'شناسه برنامه (Application ID)',
    field_private_key: 'کلید خصوصی',
    field_signature_secret: 'رمز امضا (Signature secret)',
    field_callback_url: 'نشانی بازگشت (Callback URL)',
    field_bot_token: 'توکن ربات',
    field_mode: 'شیوه دریافت به‌روزرسانی‌ها',
    field_phone_number_id: 'شناسه شماره تلفن (Phone number ID)',
    field_access_token: 'توکن دسترسی',
    field_app_secret: 'رمز برنامه (App secret)',
    field_page_id: 'شناسه صفحه فیسبوک',
    field_instagram_account_id: 'شناسه حساب اینستاگرام',
    field_page_access_token: 'توکن دسترسی صفحه',
    'field_email.address': 'نشانی',
    'field_email.display_name': 'نام نمایشی',
    'field_email.signature': 'امضا',
    'field_email.imap.host': 'سرور IMAP',
    'field_email.imap.port': 'درگاه IMAP',
    'field_email.imap.security': 'امنیت IMAP',
    'field_email.imap.username': 'نام کاربری IMAP',
    'field_email.imap.mailbox': 'پوشه IMAP',
    field_imap_password: 'گذرواژه IMAP',
    'field_email.smtp.host': 'سرور SMTP',
    'field_email.smtp.port': 'درگاه SMTP',
    'field_email.smtp.security': 'امنیت SMTP',
    'field_email.smtp.username': 'نام کاربری SMTP',
    field_smtp_password: 'گذرواژه SMTP',
    'help_email.address': 'نشانی پشتیبانی که مشتریان به آن می‌نویسند، مانند support@example.com.',
    'help_email.display_name': 'پس از نام کارشناس در بخش From می‌آید: «Ana | Acme Support».',
    'help_email.signature': 'به پایان هر پاسخ افزوده می‌شود.',
    'help_email.imap.host': 'صندوقی که خوانده می‌شود؛ اگر نامه‌ها تنها با بازارسال می‌رسند خالی بگذارید.',
    'help_email.imap.port': '993 برای TLS.',
    'help_email.imap.mailbox': 'اگر تعیین نشود INBOX.',
    'help_email.smtp.host': 'سروری که پاسخ‌ها از آن فرستاده می‌شوند.',
    'help_email.smtp.port': '465 برای TLS، ‏587 برای STARTTLS.',
    help_callback_url:
      'پاسخ‌های کارشناسان با امضای رمز صندوق (که یک بار نشان داده می‌شود) به این نشانی POST می‌شوند.',
    help_sms_from:
      'شماره‌ای که پاسخ‌ها از آن می‌روند، به قالب E.164 ‏(+14155550100)؛ در Twilio شناسه Messaging Service ‏(MG…) هم پذیرفته است.',
    help_account_sid: 'Twilio: شناسه حساب (AC…).',
    help_auth_token: 'Twilio: توکن احراز هویت حساب؛ وب‌هوک‌های Twilio هم با آن امضا می‌شوند.',
    help_application_id: 'Vonage: شناسه برنامه Messages.',
    help_private_key: 'Vonage: کلید خصوصی برنامه (PEM)، از زمان ساختن آن.',
    help_signature_secret: 'Vonage: رمز امضای حساب که وب‌هوک‌هایش را امضا می‌کند.',
    help_bot_token: 'توکنی که BotFather به ربات داده است، مانند 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11.',
    help_mode:
      'webhook: تلگرام نشانی همگانی هاب را صدا می‌زند (خودکار تنظیم می‌شود). polling: هاب از تلگرام می‌پرسد، برای هاب‌های بی‌نشانی همگانی.',
    help_whatsapp_provider: '`meta` برای WhatsApp Cloud API؛ `twilio` برای فرستنده واتس‌اپ Twilio.',
    help_phone_number_id: 'Meta: ‏WhatsApp Manager ← API Setup ← Phone number ID.',
    help_access_token: 'Meta: توکن دائمی یک کاربر سیستمی با whatsapp_business_messaging.',
    help_whatsapp_app_secret: 'Meta: ‏App settings ← Basic؛ امضای X-Hub-Signature-256 وب‌هوک را می‌سنجد.',
    help_whatsapp_from: 'Twilio: شماره فرستنده واتس‌اپ به قالب E.164 ‏(+14155550100).',
    help_page_id: 'شناسه عددی صفحه (تنظیمات صفحه، درباره، شفافیت صفحه).',
    help_instagram_account_id: 'شناسه حساب حرفه‌ای اینستاگرام که به صفحه پیوند دارد.',
    help_page_access_token: 'توکن دسترسی صفحه با pages_messaging (و instagram_manage_messages).',
    help_app_secret: 'رمز برنامه Meta شما: وب‌هوک‌ها با آن سنجیده می‌شوند.',
  },
  ar: {
    field_provider: 'المزوّد',
    field_from: 'المرسِل',
    field_account_sid: 'Account SID',
    field_auth_token: 'رمز المصادقة (Auth token)',
    field_application_id: 'معرّف التطبيق (Application ID)',
    field_private_key: 'المفتاح الخاص',
    field_signature_secret: 'سرّ التوقيع (Signature secret)',
    field_callback_url: 'عنوان الاستدعاء (Callback URL)',
    field_bot_token: 'رمز البوت',
    field_mode: 'طريقة وصول التحديثات',
    field_phone_number_id: 'معرّف رقم الهاتف (Phone number ID)',
    field_access_token: 'رمز الوصول',
    field_app_secret: 'سرّ التطبيق (App secret)',
    field_page_id: 'معرّف صفحة فيسبوك',
    field_instagram_account_id: 'معرّف حساب إنستغرام',
    field_page_access_token: 'رمز وصول الصفحة',
    'field_email.address': 'العنوان',
    'field_email.display_name': 'الاسم الظاهر',
    'field_email.signature': 'التوقيع',
    'field_email.imap.host': 'خادم IMAP',
    'field_email.imap.port': 'منفذ IMAP',
    'field_email.imap.security': 'أمان IMAP',
    'field_email.imap.username': 'اسم مستخدم IMAP',
    'field_email.imap.mailbox': 'مجلد IMAP',
    field_imap_password: 'كلمة مرور IMAP',
    'field_email.smtp.host': 'خادم SMTP',
    'field_email.smtp.port': 'منفذ SMTP',
    'field_email.smtp.security': 'أمان SMTP',
    'field_email.smtp.username': 'اسم مستخدم SMTP',
    field_smtp_password: 'كلمة مرور SMTP',
    'help_email.address': 'عنوان الدعم الذي يكتب إليه العملاء، مثل support@example.com.',
    'help_email.display_name': 'يظهر بعد اسم الموظف في حقل From: «Ana | Acme Support».',
    'help_email.signature': 'يُضاف إلى نهاية كل رد.',
    'help_email.imap.host': 'صندوق البريد الذي يُقرأ؛ اتركه فارغًا إذا كان البريد يصل بإعادة التوجيه فقط.',
    'help_email.imap.port': '993 لـ TLS.',
    'help_email.imap.mailbox': 'INBOX ما لم يُحدَّد غيره.',
    'help_email.smtp.host': 'الخادم الذي تُرسَل الردود عبره.',
    'help_email.smtp.port': '465 لـ TLS، و587 لـ STARTTLS.',
    help_callback_url: 'تُرسَل ردود الموظفين إلى هذا العنوان بطلب POST موقّعة بسرّ الصندوق (يُعرض مرة واحدة).',
    help_sms_from:
      'الرقم الذي تصدر منه الردود بصيغة E.164 ‏(+14155550100)؛ ومع Twilio يصلح أيضًا معرّف Messaging Service ‏(MG…).',
    help_account_sid: 'Twilio: معرّف الحساب (AC…).',
    help_auth_token: 'Twilio: رمز مصادقة الحساب؛ وبه تُوقَّع أيضًا استدعاءات Twilio.',
    help_application_id: 'Vonage: معرّف تطبيق Messages.',
    help_private_key: 'Vonage: المفتاح الخاص للتطبيق (PEM)، منذ إنشائه.',
    help_signature_secret: 'Vonage: سرّ توقيع الحساب الذي يوقّع استدعاءاته.',
    help_bot_token: 'الرمز الذي أعطاه BotFather للبوت، مثل 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11.',
    help_mode:
      'webhook: يستدعي تيليغرام العنوان العام للخادم (يُضبط تلقائيًا). polling: يسأل الخادم تيليغرام، للخوادم التي لا عنوان عامًا لها.',
    help_whatsapp_provider: '`meta` لـ WhatsApp Cloud API؛ و`twilio` لمرسِل واتساب عبر Twilio.',
    help_phone_number_id: 'Meta: ‏WhatsApp Manager ← API Setup ← Phone number ID.',
    help_access_token: 'Meta: رمز دائم لمستخدم نظام مع whatsapp_business_messaging.',
    help_whatsapp_app_secret: 'Meta: ‏App settings ← Basic؛ يتحقق من توقيع X-Hub-Signature-256 للاستدعاء.',
    help_whatsapp_from: 'Twilio: رقم مرسِل واتساب بصيغة E.164 ‏(+14155550100).',
    help_page_id: 'المعرّف الرقمي للصفحة (إعدادات الصفحة، حول، شفافية الصفحة).',
    help_instagram_account_id: 'معرّف حساب إنستغرام الاحترافي المرتبط بالصفحة.',
    help_page_access_token: 'رمز وصول للصفحة مع pages_messaging (و instagram_manage_messages).',
    help_app_secret: 'سرّ تطبيق Meta الخاص بك: تُتحقَّق الاستدعاءات به.',
  },
});

// The field's label in the console's language, or the hub's own (labels do not differ by
// channel).
export function fieldLabel(field) {
  const key = `field_${field.name}`;
  return hasString(key) ? t(key) : field.label;
}

// The field's hint: first what is said for this channel's field, then for the field's name.
export function fieldHelp(kind, field) {
  if (!field.help) return null;
  for (const key of [`help_${kind}_${field.name}`, `help_${field.name}`]) {
    if (hasString(key)) return t(key);
  }
  return field.help;
}
