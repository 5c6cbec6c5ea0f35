export default {
  "Platform Audit Trail": "平台审计日志",
  "Audit trail": "审计日志",
  "All": "全部",
  "Every configuration change made through the API or with the cloudsms command, of every tenant: the Tenant ID is the tenant it concerns, none for a command that names no tenant (channel-add, say). Only the names of the fields or options a change gave are kept, never their values. Sending is not recorded.": "通过 API 或 cloudsms 命令所做的每项配置更改，涵盖所有租户：租户 ID 为更改所涉及的租户；未指定租户的命令（例如 channel-add）则没有租户 ID。只记录更改所提交字段或选项的名称，从不记录其值。发送短信不作记录。"
}
