export default {
  "Platform Black List": "平台黑名单",
  "Platform blacklist": "平台黑名单",
  "Add numbers": "添加号码",
  "No tenant sends to a number on this list: missions and API sends count it as blacklisted, as they do a number on the tenant's own Black List.": "任何租户都不会向此名单中的号码发送短信：任务和 API 发送会将其计为黑名单号码，与租户自己黑名单中的号码相同。"
}
