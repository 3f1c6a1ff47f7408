// Where this mini-program's ShelfLive runs and which shop it sells for.
// Edit before opening the project in WeChat DevTools (README: "The WeChat
// mini-program"). The server must be an HTTPS domain listed in the
// mini-program's request and socket domains (mp.weixin.qq.com → 开发管理 →
// 服务器域名); DevTools may skip that check while you develop.
module.exports = {
  server: "https://shop.example.com", // SHELFLIVE_PUBLIC_URL of the install
  merchant: "demo",                   // the shop's slug
  room: "",                           // the room opened without ?slug= (empty: the first live room the shop shares)
};
