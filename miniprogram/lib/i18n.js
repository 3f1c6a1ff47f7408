// Bilingual strings: Chinese first; English when WeChat's language is
// English. t(zh, en) picks one, so a page never shows both at once.
let lang = "";

function current() {
  if (lang) return lang;
  let l = "zh_CN";
  try {
    l = (wx.getAppBaseInfo ? wx.getAppBaseInfo() : wx.getSystemInfoSync()).language || l;
  } catch (e) { /* keep Chinese */ }
  lang = /^en/i.test(l) ? "en" : "zh";
  return lang;
}

module.exports = {
  t: (zh, en) => (current() === "en" ? en : zh),
  lang: current,
  // setLang switches the language (tests; a future setting).
  setLang(l) { lang = l === "en" ? "en" : "zh"; },
  acceptLanguage: () => (current() === "en" ? "en" : "zh-CN"),
};
