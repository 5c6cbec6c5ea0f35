export default {
  "Search statistics": "查询统计",
  "SMS Delivery Statistics": "短信发送统计",
  "Dates are dispatching dates in {zone} ({offset}). The total includes messages still awaiting a delivery receipt.": "日期为 {zone}（{offset}）的发送日期。发送总量包含仍在等待状态报告的短信。",
  "SMS delivery statistics": "短信发送统计",
  "Seq No.": "序号",
  "Dispatching Date": "发送日期",
  "Total Delivery Amount": "发送总量",
  "Delivery Success": "发送成功",
  "Delivery Failure": "发送失败",
  "No Delivery Notification": "无状态报告",
  "Delivery Success Rate": "发送成功率",
  "Operation": "操作",
  "Dispatching log of {date}": "{date} 的发送日志",
  "Detail": "详情"
}
