export default {
  "Language": "语言",
  "SMS Overview": "短信概览",
  "SMS": "短信",
  "Bulk Dispatching Tool": "群发工具",
  "SMS Template": "短信模板",
  "Product Order Mgt": "产品订单管理",
  "Black List Mgt": "黑名单管理",
  "SMS Statistics": "短信统计",
  "SMS Delivery Statistics": "短信发送统计",
  "Dispatching Log": "发送日志",
  "Expense Statistics": "费用统计",
  "Operator": "运营管理",
  "Accounts": "账号",
  "Product Packages": "产品套餐",
  "Business Channels": "业务通道"
}
