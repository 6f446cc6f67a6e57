-- Ghost text drawn by the plugin itself with extmarks: the whole suggestion UI on Neovim
-- 0.10/0.11 (or with mode = 'fallback'), and on 0.12 the remainder after a partial accept
-- or the answer to a manual trigger. First line as inline virt_text, the rest as virt_lines.
local text = require('codestral.text')
local api = vim.api

local M = {}

M.ns = api.nvim_create_namespace('codestral.ghost')
M.hl = 'CodestralSuggestion'

---@class codestral.Ghost
---@field row integer 0-based row of the anchor (where the suggestion starts)
---@field col integer 0-based byte column of the anchor
---@field items string[] suggestions the server returned
---@field index integer which item is shown
---@field client_id integer|nil
---@field explicit boolean the items answer an explicit request (all the server offers)

---@type table<integer, codestral.Ghost>
M.state = {}

function M.define_highlight()
  local target = vim.fn.hlexists('ComplHint') == 1 and 'ComplHint' or 'Comment'
  api.nvim_set_hl(0, M.hl, { link = target, default = true })
end

---@param bufnr integer
---@return codestral.Ghost|nil
function M.get(bufnr)
  return M.state[bufnr]
end

---@param bufnr integer
---@return string|nil
function M.current_text(bufnr)
  local st = M.state[bufnr]
  return st and st.items[st.index] or nil
end

---@param bufnr integer
function M.clear(bufnr)
  M.state[bufnr] = nil
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

---@param bufnr integer
---@return boolean
function M.visible(bufnr)
  return M.state[bufnr] ~= nil
    and #api.nvim_buf_get_extmarks(bufnr, M.ns, 0, -1, { limit = 1 }) > 0
end

---@param bufnr integer
local function render(bufnr)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  local st = M.state[bufnr]
  if not st then
    return
  end
  local lines = text.lines(st.items[st.index])
  local first = { { lines[1], M.hl } }
  local virt_lines = {}
  for i = 2, #lines do
    table.insert(virt_lines, { { lines[i], M.hl } })
  end
  if #st.items > 1 then
    local hint = { (' (%d/%d)'):format(st.index, #st.items), 'Comment' }
    table.insert(#virt_lines > 0 and virt_lines[#virt_lines] or first, hint)
  end
  api.nvim_buf_set_extmark(bufnr, M.ns, st.row, st.col, {
    virt_text = first,
    virt_text_pos = 'inline',
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = 'combine',
  })
end

--- Show suggestions anchored at (row, col); empty texts are dropped.
---@param bufnr integer
---@param row integer
---@param col integer
---@param items string[]
---@param client_id integer|nil
---@param explicit? boolean the items answer an explicit request (so there are no others)
---@return boolean shown
function M.show(bufnr, row, col, items, client_id, explicit)
  local kept = {}
  for _, item in ipairs(items) do
    if item ~= '' and not vim.tbl_contains(kept, item) then
      table.insert(kept, item)
    end
  end
  if #kept == 0 then
    M.clear(bufnr)
    return false
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
  if not line or #line < col then
    M.clear(bufnr)
    return false
  end
  M.state[bufnr] = {
    row = row,
    col = col,
    items = kept,
    index = 1,
    client_id = client_id,
    explicit = explicit == true,
  }
  render(bufnr)
  return true
end

--- Follow the cursor after an edit: keep showing what is left when the user typed the
--- suggestion's own characters, drop it otherwise. Returns whether a suggestion remains.
---@param bufnr integer
---@param row integer cursor row (0-based)
---@param col integer cursor column (0-based bytes)
---@return boolean
function M.follow(bufnr, row, col)
  local st = M.state[bufnr]
  if not st then
    return false
  end
  if row ~= st.row or col < st.col then
    M.clear(bufnr)
    return false
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local typed = line:sub(st.col + 1, col)
  if typed == '' then
    return true
  end
  local rest = text.remainder(st.items[st.index], typed)
  if not rest or rest == '' then
    M.clear(bufnr)
    return false
  end
  -- The other items the typed text agrees with stay available for next/previous.
  local items = {}
  for _, item in ipairs(st.items) do
    local r = text.remainder(item, typed)
    if r and r ~= '' and not vim.tbl_contains(items, r) then
      table.insert(items, r)
    end
  end
  local index = 1
  for i, item in ipairs(items) do
    if item == rest then
      index = i
    end
  end
  M.state[bufnr] = {
    row = row,
    col = col,
    items = items,
    index = index,
    client_id = st.client_id,
    explicit = st.explicit,
  }
  render(bufnr)
  return true
end

--- Switch to the next (delta 1) or previous (delta -1) item.
---@param bufnr integer
---@param delta integer
---@return boolean
function M.cycle(bufnr, delta)
  local st = M.state[bufnr]
  if not st or #st.items < 2 then
    return false
  end
  return M.select(bufnr, st.index + delta)
end

--- Show item `index` (1-based, wrapping around).
---@param bufnr integer
---@param index integer
---@return boolean
function M.select(bufnr, index)
  local st = M.state[bufnr]
  if not st or #st.items == 0 then
    return false
  end
  st.index = (index - 1) % #st.items + 1
  render(bufnr)
  return true
end

--- Insert `piece` at (row, col) and move the cursor of `win` to its end.
---@param bufnr integer
---@param win integer
---@param row integer
---@param col integer
---@param piece string
function M.insert(bufnr, win, row, col, piece)
  api.nvim_buf_set_text(bufnr, row, col, row, col, text.lines(piece))
  local end_row, end_col = text.end_position(row, col, piece)
  if api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) == bufnr then
    api.nvim_win_set_cursor(win, { end_row + 1, end_col })
  end
end

--- Accept all, or the next word or line, of the shown suggestion; what is left stays shown.
---@param bufnr integer
---@param kind 'all'|'word'|'line'
---@return boolean accepted
function M.accept(bufnr, kind)
  local win = api.nvim_get_current_win()
  -- Keys typed just before (still in typeahead, so no autocommand has run yet) count.
  local cur = api.nvim_win_get_cursor(win)
  if not M.follow(bufnr, cur[1] - 1, cur[2]) then
    return false
  end
  local st = M.state[bufnr]
  local piece, rest = text.take(st.items[st.index], kind)
  M.clear(bufnr)
  M.insert(bufnr, win, st.row, st.col, piece)
  if rest ~= '' then
    local row, col = text.end_position(st.row, st.col, piece)
    M.show(bufnr, row, col, { rest }, st.client_id, st.explicit)
  end
  return true
end

return M
