import type { Messages } from "./en";

/**
 * हिंदी: the Hindi catalogue. Typed as the full {@link Messages}: a key missing here does not
 * compile, and messages.test.ts checks the keys at run time too.
 */
export const hi: Messages = {
  locale: "hi-IN",
  hello: (name: string) => `नमस्ते ${name},`,
  signature: "— keel",
  department: "विभाग",
  state: "राज्य",
  value: "मूल्य",
  closes: "अंतिम तिथि",
  none: "—",
  whyMatched: "मेल खाने का कारण",
  reasonKeyword: (keyword: string) => `कीवर्ड "${keyword}"`,
  reasonState: (state: string) => `राज्य ${state}`,
  reasonDepartment: (department: string) => `विभाग ${department}`,
  reasonValueBetween: (min: string, max: string) => `मूल्य ${min} और ${max} के बीच`,
  reasonValueAtLeast: (min: string) => `मूल्य कम से कम ${min}`,
  reasonValueAtMost: (max: string) => `मूल्य अधिकतम ${max}`,
  reasonClosingWithin: (days: number) => `${days} दिनों के भीतर बंद होगा`,
  reasonAny: "हर नई निविदा (अलर्ट में कोई शर्त नहीं है)",
  alertSubjectOne: (alert: string, title: string) => `आपके अलर्ट "${alert}" के लिए नई निविदा: ${title}`,
  alertSubjectMany: (n: number) => `${n} नई निविदाएँ आपके अलर्ट से मेल खाती हैं`,
  alertIntro: (n: number) => (n === 1 ? "एक नई निविदा आपके अलर्ट से मेल खाती है।" : `${n} नई निविदाएँ आपके अलर्ट से मेल खाती हैं।`),
  alertGroup: (alert: string, n: number) => `अलर्ट "${alert}": ${n} निविदा${n === 1 ? "" : "एँ"}`,
  stopAlertEmails: "इस अलर्ट के ईमेल बंद करें",
  stopAlertEmailsOf: (alert: string) => `अलर्ट "${alert}" के ईमेल बंद करें`,
  digestSubject: (frequency: "daily" | "weekly", n: number) =>
    `आपका ${frequency === "weekly" ? "साप्ताहिक" : "दैनिक"} keel सारांश: ${n} खुली निविदा${n === 1 ? "" : "एँ"}`,
  digestIntro: (n: number) => `आपके पिछले सारांश के बाद ${n} खुली निविदा${n === 1 ? "" : "एँ"} आपके अलर्ट से मेल खाईं, सबसे पहले बंद होने वाली ऊपर।`,
  digestLeftOut: (n: number) => `${n} और मेल यहाँ सूचीबद्ध नहीं ${n === 1 ? "है" : "हैं"}।`,
  seeAll: "अपने सभी मेल देखें",
  stopDigestEmails: "सारांश ईमेल बंद करें",
  timesShownIn: (zone: string) => `समय ${zone} में दिखाए गए हैं।`,
  openTender: "निविदा खोलें",
  reminderTitle: (title: string, days: number) => `अनुस्मारक: ${title} ${days === 1 ? "1 दिन" : `${days} दिनों`} के भीतर बंद होगी`,
  reminderLine: (title: string, closes: string) => `जिस निविदा "${title}" के लिए आप बोली तैयार कर रहे हैं, वह ${closes} को बंद होगी।`,
  reminderWhy: "आपको यह अनुस्मारक इसलिए मिला क्योंकि बोली योजना या तैयारी में है। दिन अपनी प्राथमिकताओं (reminder_days) में बदलें।",
  changedFields: (closingDate: boolean, value: boolean) => [closingDate ? "अंतिम तिथि" : null, value ? "मूल्य" : null].filter(Boolean).join(" और "),
  changeTitle: (title: string, what: string) => `बदलाव (${what}): ${title}`,
  changeIntro: (title: string, what: string) => `"${title}" में ${what} बदल गया है:`,
  changeClosingDate: (from: string, to: string) => `अंतिम तिथि: ${from} → ${to}`,
  changeValue: (from: string, to: string) => `मूल्य: ${from} → ${to}`,
};
