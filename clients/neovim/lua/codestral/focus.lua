-- `codestral/didFocus`: tell the server where the cursor rests, so that it can prepare the
-- model's prompt there before the first key (params: LSP TextDocumentPositionParams).
--
-- Sent once the cursor has stayed put for `delay_ms` after CursorMoved/CursorMovedI, BufEnter
-- and attaching (an own timer: 'updatetime', hence CursorHold, is 4 s by default), and at
-- CursorHold/CursorHoldI. Never twice for the same (buffer, changedtick, line, column), and
-- never where the server was already asked for a suggestion or is about to be: a completion
-- request in flight, or typing in insert mode (didChange and the request that follows say it).
local controller = require('codestral.controller')
local lsp = require('codestral.lsp')
local api = vim.api

local M = {}

M.method = 'codestral/didFocus'
--- How long the cursor must rest before the server is told.
M.delay_ms = 250

---@class codestral.FocusState
---@field timer uv.uv_timer_t|nil
---@field gen integer bumped by every (re)schedule, so a stale timer callback does nothing
---@field tick integer|nil changedtick the `told` positions belong to
---@field told table<string, true> "row:col" positions the server knows about at `tick`

---@type table<integer, codestral.FocusState>
M.bufs = {}

---@param bufnr integer
---@return codestral.FocusState
local function state(bufnr)
  local st = M.bufs[bufnr]
  if not st then
    st = { gen = 0, told = {} }
    M.bufs[bufnr] = st
  end
  return st
end

local function stop_timer(st)
  st.gen = st.gen + 1
  if st.timer then
    if not st.timer:is_closing() then
      st.timer:stop()
      st.timer:close()
    end
    st.timer = nil
  end
end

--- Whether the plugin sends didFocus at all right now.
---@return boolean
local function active()
  local opts = controller.opts
  return opts ~= nil and opts.focus == true and controller.enabled
end

--- The changedtick and cursor (0-based row, byte column) of `bufnr` in the current window.
---@param bufnr integer
---@return integer|nil tick, integer row, integer col
function M.position(bufnr)
  local win = api.nvim_get_current_win()
  if not api.nvim_buf_is_valid(bufnr) or api.nvim_win_get_buf(win) ~= bufnr then
    return nil, 0, 0
  end
  local cur = api.nvim_win_get_cursor(win)
  return api.nvim_buf_get_changedtick(bufnr), cur[1] - 1, cur[2]
end

--- Record that the server knows about this position. False when it already did.
---@param bufnr integer
---@param tick integer
---@param row integer
---@param col integer
---@return boolean new
function M.mark(bufnr, tick, row, col)
  local st = state(bufnr)
  if st.tick ~= tick then
    st.tick = tick
    st.told = {}
  end
  local key = row .. ':' .. col
  if st.told[key] then
    return false
  end
  st.told[key] = true
  return true
end

--- Record the cursor position of `bufnr` as known to the server.
---@param bufnr integer
function M.mark_cursor(bufnr)
  local tick, row, col = M.position(bufnr)
  if tick then
    M.mark(bufnr, tick, row, col)
  end
end

--- Forget what the server was told (a server that was loading could not use it).
function M.forget()
  for _, st in pairs(M.bufs) do
    st.tick = nil
    st.told = {}
  end
end

--- Send didFocus for the cursor of the current window now, unless the server knows already.
---@param bufnr integer
---@return boolean sent
function M.send(bufnr)
  if M.bufs[bufnr] then
    stop_timer(M.bufs[bufnr])
  end
  if not active() or api.nvim_get_current_buf() ~= bufnr then
    return false
  end
  local client = lsp.client(bufnr)
  local tick, row, col = M.position(bufnr)
  if not client or not tick then
    return false
  end
  if lsp.inline_pending(client, bufnr) then
    M.mark(bufnr, tick, row, col) -- the request in flight already prepares this position
    return false
  end
  if not M.mark(bufnr, tick, row, col) then
    return false
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  lsp.notify(client, M.method, { textDocument = params.textDocument, position = params.position }, bufnr)
  return true
end

--- Send didFocus once the cursor has rested for `delay` ms (default `M.delay_ms`).
---@param bufnr integer
---@param delay integer|nil
function M.schedule(bufnr, delay)
  local st = state(bufnr)
  stop_timer(st)
  if not active() then
    return
  end
  local gen = st.gen
  st.timer = vim.defer_fn(function()
    if st.gen ~= gen then
      return -- rescheduled or stopped meanwhile
    end
    st.timer = nil
    M.send(bufnr)
  end, delay or M.delay_ms)
end

--- Text typed in insert mode: the didChange and the completion request that follows tell
--- the server where the cursor is, so no didFocus for this position.
---@param bufnr integer
local function on_insert_change(bufnr)
  if controller.enabled and controller.opts and controller.opts.auto_trigger then
    stop_timer(state(bufnr))
    M.mark_cursor(bufnr)
  end
end

--- Watch the cursor of one buffer the server attached to.
---@param bufnr integer
function M.attach(bufnr)
  local group = api.nvim_create_augroup('codestral.focus.' .. bufnr, { clear = true })
  state(bufnr)
  api.nvim_create_autocmd({ 'CursorMoved', 'CursorMovedI', 'BufEnter' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.schedule(bufnr)
    end,
  })
  api.nvim_create_autocmd({ 'CursorHold', 'CursorHoldI' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.send(bufnr)
    end,
  })
  api.nvim_create_autocmd({ 'TextChangedI', 'TextChangedP' }, {
    group = group,
    buffer = bufnr,
    callback = function()
      on_insert_change(bufnr)
    end,
  })
  api.nvim_create_autocmd('BufLeave', {
    group = group,
    buffer = bufnr,
    callback = function()
      stop_timer(state(bufnr))
    end,
  })
  api.nvim_create_autocmd('BufWipeout', {
    group = group,
    buffer = bufnr,
    callback = function()
      local st = M.bufs[bufnr]
      if st then
        stop_timer(st)
      end
      M.bufs[bufnr] = nil
      pcall(api.nvim_del_augroup_by_id, group)
    end,
  })
  if api.nvim_get_current_buf() == bufnr then
    M.schedule(bufnr)
  end
end

--- Global hook: every inline completion request (the built-in module's or the plugin's) tells
--- the server about the cursor position it is made for.
function M.setup_global()
  local group = api.nvim_create_augroup('codestral.focus', { clear = true })
  api.nvim_create_autocmd('LspRequest', {
    group = group,
    callback = function(ev)
      local req = ev.data and ev.data.request
      if not req or req.type ~= 'pending' or req.method ~= 'textDocument/inlineCompletion' then
        return
      end
      if ev.buf and M.bufs[ev.buf] then
        M.mark_cursor(ev.buf)
      end
    end,
  })
end

--- The server finished loading: tell it again where the cursor is (call `forget` first, since
--- what it was told while loading is lost), unless a completion request just did.
function M.on_ready()
  local bufnr = api.nvim_get_current_buf()
  if M.bufs[bufnr] then
    M.send(bufnr)
  end
end

return M
