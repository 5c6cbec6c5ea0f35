export default {
  "Search expenses": "查询费用",
  "Expense Statistics": "费用统计",
  "Dates are dispatching dates in {zone} ({offset}). A message costs its channel's price per segment for its country once the gateway accepts it; the post-paid cost is the part no prepaid package paid for, billed afterwards.": "日期为 {zone}（{offset}）的发送日期。网关接受短信后，按其通道对该国家/地区的单价逐条计费；后付费费用是未由预付费套餐支付、事后结算的部分。",
  "Expense statistics": "费用统计",
  "Seq No.": "序号",
  "Dispatching Date": "发送日期",
  "Route ID": "路由 ID",
  "Submitted SMS": "提交短信数",
  "Segment Quantity": "计费条数",
  "Cost (USD)": "费用（美元）",
  "Post-paid Cost (USD)": "后付费费用（美元）",
  "Total": "总计"
}
