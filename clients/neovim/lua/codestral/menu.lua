-- Is a completion menu open? Native popup menu, nvim-cmp or blink.cmp (only when loaded).
local M = {}

---@return boolean
function M.visible()
  if vim.fn.pumvisible() == 1 then
    return true
  end
  local cmp = package.loaded['cmp']
  if type(cmp) == 'table' and type(cmp.visible) == 'function' then
    local ok, shown = pcall(cmp.visible)
    if ok and shown then
      return true
    end
  end
  local blink = package.loaded['blink.cmp']
  if type(blink) == 'table' then
    local fn = blink.is_menu_visible or blink.is_visible
    if type(fn) == 'function' then
      local ok, shown = pcall(fn)
      if ok and shown then
        return true
      end
    end
  end
  return false
end

return M
