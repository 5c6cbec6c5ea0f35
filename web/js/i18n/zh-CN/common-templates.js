export default {
  "Common Templates": "公共模板",
  "Common templates": "公共模板",
  "Add": "新增",
  "Add common template": "新增公共模板",
  "Every tenant can use these templates: on its SMS Template page, and with Default Template in the Add form of a mission.": "每个租户都可以使用这些模板：在其“短信模板”页面，或在任务的新增表单中通过“默认模板”使用。",
  "Updated": "更新时间",
  "Operation": "操作",
  "No common template yet: click Add.": "暂无公共模板：请点击“新增”。",
  "Edit common template": "编辑公共模板"
}
