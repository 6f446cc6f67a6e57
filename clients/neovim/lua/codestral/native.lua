-- Neovim 0.12+: glue over the built-in vim.lsp.inline_completion (requests, debounce, ghost
-- text, cycling), adding what it lacks: a visibility test, accept-word/accept-line and an
-- accept that does not repeat characters typed over the suggestion.
local ghost = require('codestral.ghost')
local text = require('codestral.text')
local api = vim.api

local M = {}

local NS_NAME = 'nvim.lsp.inline_completion'

--- The built-in module's extmark namespace (created when the module loads), or nil.
---@return integer|nil
local function native_ns()
  if M.ns == nil then
    M.ns = api.nvim_get_namespaces()[NS_NAME]
  end
  return M.ns
end

--- Whether this Neovim has the built-in inline completion in the shape this module knows.
---@return boolean
function M.available()
  local ok, ic = pcall(function()
    return vim.lsp.inline_completion
  end)
  return ok
    and type(ic) == 'table'
    and type(ic.get) == 'function'
    and type(ic.enable) == 'function'
    and type(ic.select) == 'function'
    and native_ns() ~= nil
end

---@param bufnr integer
---@param on boolean
function M.enable(bufnr, on)
  vim.lsp.inline_completion.enable(on, { bufnr = bufnr })
end

---@param bufnr integer
---@return boolean
function M.enabled(bufnr)
  return vim.lsp.inline_completion.is_enabled({ bufnr = bufnr })
end

--- Whether the built-in ghost text is on screen in this buffer.
---@param bufnr integer
---@return boolean
function M.visible(bufnr)
  local ns = native_ns()
  return ns ~= nil and #api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

--- The suggestion text still to insert, seen from the cursor, as the built-in UI shows it.
---@param item vim.lsp.inline_completion.Item
---@param bufnr integer
---@return string|nil rest, integer row, integer col  (row/col: 0-based insertion point)
local function remaining(item, bufnr)
  local insert = item.insert_text
  local s = type(insert) == 'string' and insert or (insert and insert.value) or ''
  local win = api.nvim_get_current_win()
  local cur = api.nvim_win_get_cursor(win)
  local row, col = cur[1] - 1, cur[2]
  local range = item.range
  local ok, srow, scol = pcall(function()
    return range:to_extmark()
  end)
  if not range or not ok then
    return s, row, col
  end
  if srow ~= row or col < scol then
    return nil, row, col
  end
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local rest = text.remainder(s, line:sub(scol + 1, col))
  return rest, row, col
end

--- Accept all, a word or a line of the built-in suggestion. What is left after a partial
--- accept is drawn by the plugin's own ghost text until the next built-in answer replaces it.
---@param bufnr integer
---@param kind 'all'|'word'|'line'
---@return boolean
function M.accept(bufnr, kind)
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function(item)
      local is_snippet = type(item.insert_text) == 'table' and item.insert_text.kind == 'snippet'
      if kind == 'all' and (is_snippet or item.command) then
        return item -- the built-in accept handles snippets and commands
      end
      local rest, row, col = remaining(item, bufnr)
      if not rest then
        return kind == 'all' and item or nil
      end
      local piece, after = text.take(rest, kind)
      ghost.insert(bufnr, api.nvim_get_current_win(), row, col, piece)
      if after ~= '' then
        local r, c = text.end_position(row, col, piece)
        ghost.show(bufnr, r, c, { after }, item.client_id)
      end
      return nil
    end,
  })
end

--- Hide the built-in suggestion until the next edit.
---@param bufnr integer
---@return boolean
function M.dismiss(bufnr)
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function()
      return nil
    end,
  })
end

--- How many items the built-in UI holds for this buffer (it has no public way to say: read
--- its state through the private capability table, tolerating any change), or nil.
---@param bufnr integer
---@return integer|nil
function M.count(bufnr)
  local ok, n = pcall(function()
    local completor = require('vim.lsp._capability').all.inline_completion.active[bufnr]
    return completor:count_items()
  end)
  return ok and type(n) == 'number' and n or nil
end

--- Step through the built-in UI's items (the server's several items for one request).
---@param bufnr integer
---@param delta integer
function M.cycle(bufnr, delta)
  vim.lsp.inline_completion.select({ bufnr = bufnr, count = delta })
end

return M
