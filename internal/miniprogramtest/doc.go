// Package miniprogramtest runs the WeChat mini-program's own tests
// (miniprogram/, npm test: miniprogram-simulate and j-component under node)
// against a real ShelfLive node with the local WeChat fakes: jscode2session
// for wx.login and WeChat Pay for wx.requestPayment. It holds no code; its
// test is the CI gate of the mini-program.
package miniprogramtest
