-- WeChat reminder channels. A live reminder as a mini-program subscribe
-- message spends one of the viewer's credits (wechat_mini_grants, 2400);
-- grant_template is the template whose credit the delivery holds ('' for
-- none): a retry keeps it, a give-up returns it, WeChat's refusal (43101)
-- drops the viewer's other credits of it. Official account template
-- messages go to the openid in wechat_bindings and need no credit. Each
-- channel can be switched off like Web Push.
ALTER TABLE notify_deliveries ADD COLUMN grant_template TEXT NOT NULL DEFAULT '';
ALTER TABLE notify_prefs ADD COLUMN wx_sub_off INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notify_prefs ADD COLUMN wx_tpl_off INTEGER NOT NULL DEFAULT 0;
