-- Insert-mode keys that act only when there is something to act on, and otherwise hand the
-- key to whatever it did before (the user's mapping, or the key itself).
local api = vim.api

local M = {}

local DESC = 'codestral: '

--- Mappings that were in place before ours, by lhs.
---@type table<string, table>
M.previous = {}
--- Keys left alone because something else already used them.
---@type string[]
M.skipped = {}

local function termcodes(s)
  return api.nvim_replace_termcodes(s, true, true, true)
end

local function feed(keys, remap)
  if keys and keys ~= '' then
    api.nvim_feedkeys(keys, remap and 'im' or 'in', false)
  end
end

--- Do what `lhs` did before our mapping existed.
---@param lhs string
---@param prev table|nil maparg() dictionary
function M.fall_through(lhs, prev)
  if not prev or vim.tbl_isempty(prev) then
    feed(termcodes(lhs), false)
    return
  end
  local remap = prev.noremap == 0
  if prev.callback then
    if prev.expr == 1 then
      local keys = prev.callback()
      if type(keys) == 'string' then
        feed(prev.replace_keycodes == 1 and termcodes(keys) or keys, remap)
      end
    else
      prev.callback()
    end
    return
  end
  local rhs = prev.rhs or ''
  if prev.expr == 1 then
    local ok, keys = pcall(vim.fn.eval, rhs)
    if ok and type(keys) == 'string' then
      feed(termcodes(keys), remap)
    end
    return
  end
  feed(termcodes(rhs), remap)
end

--- The global insert-mode mapping of `lhs` (a buffer-local one is not what our global
--- mapping replaces), as a maparg() dictionary; empty when there is none.
---@param lhs string
---@return table
function M.global_map(lhs)
  local m = vim.fn.maparg(lhs, 'i', false, true)
  if vim.tbl_isempty(m) or m.buffer ~= 1 then
    return m
  end
  local raw = termcodes(lhs)
  for _, g in ipairs(api.nvim_get_keymap('i')) do
    if g.lhsraw == raw or g.lhs == lhs then
      return g
    end
  end
  return {}
end

local function is_ours(m)
  return type(m.desc) == 'string' and m.desc:sub(1, #DESC) == DESC
end

--- Map `lhs` in insert mode to `action`; when the action declines (returns false), the key
--- falls through. With `chain = false` an existing mapping is kept and reported instead.
---@param lhs string|false
---@param action fun(): boolean
---@param desc string
---@param chain boolean
function M.map(lhs, action, desc, chain)
  if not lhs or lhs == '' then
    return
  end
  local existing = M.global_map(lhs)
  local prev = M.previous[lhs]
  if not vim.tbl_isempty(existing) and not is_ours(existing) then
    if not chain then
      table.insert(M.skipped, lhs)
      return
    end
    prev = existing
  end
  M.previous[lhs] = prev
  vim.keymap.set('i', lhs, function()
    if not action() then
      M.fall_through(lhs, M.previous[lhs])
    end
  end, { silent = true, desc = DESC .. desc })
end

return M
