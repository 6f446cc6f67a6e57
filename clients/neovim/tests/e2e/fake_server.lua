-- An in-process language server that behaves like codestral-ls as the plugin sees it
-- (capabilities, $/progress while "loading", codestral/status, codestral/doctor, cancellation)
-- and answers inline completions from a fixed set of target lines after a short delay.
-- It lets the end-to-end scenario run in a second without a model.
local M = {}

M.targets = {
  '    return fibonacci(n - 1) + fibonacci(n - 2)',
  '    total = sum(values)\n    return total / len(values)',
  '    fibonacci_table = {}',
}
--- Second suggestions offered along with a target's answer to an explicit request (trigger
--- key, next/previous), as codestral-ls offers alternatives only then.
M.alternatives = { ['    fibonacci_table = {}'] = '    fibonacci_cache = {}' }
M.delay_ms = 80
M.requests = 0
--- The triggerKind of each inline completion request (1 invoked, 2 automatic), in order.
M.kinds = {}
M.cancelled = 0
M.settings_changes = {}
--- `codestral/didFocus` params received, in order.
M.focus = {}
--- With true, the server stays "loading" (answering empty suggestions, as codestral-ls does)
--- until `M.finish_loading()`.
M.hold_loading = false
--- With true, requests made while loading wait for the end of loading and are answered then
--- (what codestral-ls does since it waits for the model), instead of at once with nothing.
M.wait_for_load = false
M.state = 'starting'
M.encoding = 'utf-8'

local function status(state)
  return {
    state = state,
    backend = 'local',
    model = 'fake-model',
    message = '',
    progress = vim.NIL,
    lastLatencyMs = state == 'ready' and 80 or vim.NIL,
  }
end

--- What to suggest after `prefix` (the cursor line up to the cursor).
---@param prefix string
---@param explicit boolean an explicit request also gets the alternatives
---@return string[]
function M.answer(prefix, explicit)
  for _, target in ipairs(M.targets) do
    local first = target:match('^[^\n]*')
    if #prefix < #first and first:sub(1, #prefix) == prefix and prefix:match('%S') then
      local out = { target:sub(#prefix + 1) }
      local alt = M.alternatives[target]
      if explicit and alt and alt:sub(1, #prefix) == prefix then
        table.insert(out, alt:sub(#prefix + 1))
      end
      return out
    end
  end
  return {}
end

--- The `cmd` function for vim.lsp.start / vim.lsp.config.
function M.cmd(dispatchers)
  local closing = false
  local next_id = 0
  local pending = {} -- id -> true while not answered
  local docs = {} -- uri -> lines
  local srv = {}

  local function notify_client(method, params)
    vim.schedule(function()
      dispatchers.notification(method, params)
    end)
  end

  function srv.request(method, params, on_result, notify_reply)
    next_id = next_id + 1
    local id = next_id
    -- Answers always arrive later, as from a process (Neovim 0.10 expects that).
    local function callback(err, result)
      vim.schedule(function()
        if notify_reply then
          notify_reply(id)
        end
        on_result(err, result, id)
      end)
    end
    if method == 'initialize' then
      M.init_options = params.initializationOptions
      callback(nil, {
        capabilities = {
          inlineCompletionProvider = true,
          textDocumentSync = { openClose = true, change = 1 },
          positionEncoding = M.encoding,
        },
        serverInfo = { name = 'codestral-ls', version = 'fake' },
      })
    elseif method == 'textDocument/inlineCompletion' then
      M.requests = M.requests + 1
      local explicit = vim.tbl_get(params, 'context', 'triggerKind') == 1
      table.insert(M.kinds, explicit and 1 or 2)
      pending[id] = callback
      local function answer()
        if not pending[id] then
          return
        end
        local loading = M.state == 'loading'
        if loading and M.wait_for_load then
          vim.defer_fn(answer, 20)
          return
        end
        pending[id] = nil
        local lines = docs[params.textDocument.uri] or {}
        local line = lines[params.position.line + 1] or ''
        local items = {}
        local answers = loading and {} or M.answer(line:sub(1, params.position.character), explicit)
        for _, text in ipairs(answers) do
          local range = { start = params.position, ['end'] = params.position }
          table.insert(items, { insertText = text, range = range })
        end
        callback(nil, { items = items })
      end
      vim.defer_fn(answer, M.delay_ms)
    elseif method == 'codestral/status' then
      callback(nil, status(M.state == 'loading' and 'loading' or 'ready'))
    elseif method == 'codestral/doctor' then
      callback(nil, { version = 'fake', checks = { { name = 'backend', ok = true, detail = 'fake' } } })
    elseif method == 'shutdown' then
      callback(nil, vim.NIL)
    else
      callback({ code = -32601, message = 'not handled: ' .. method }, nil)
    end
    return true, id
  end

  function srv.notify(method, params)
    if method == 'initialized' then
      M.state = 'loading'
      function M.finish_loading()
        M.state = 'ready'
        dispatchers.notification('$/progress', { token = 'load', value = { kind = 'end' } })
        dispatchers.notification('codestral/status', status('ready'))
      end
      vim.schedule(function()
        dispatchers.server_request('window/workDoneProgress/create', { token = 'load' })
        dispatchers.notification('$/progress', { token = 'load', value = { kind = 'begin', title = 'Loading model' } })
        dispatchers.notification('codestral/status', status('loading'))
        if not M.hold_loading then
          vim.defer_fn(M.finish_loading, 150)
        end
      end)
    elseif method == 'codestral/didFocus' then
      table.insert(M.focus, params)
    elseif method == 'textDocument/didOpen' then
      docs[params.textDocument.uri] = vim.split(params.textDocument.text, '\n', { plain = true })
    elseif method == 'textDocument/didChange' then
      local change = params.contentChanges[#params.contentChanges]
      docs[params.textDocument.uri] = vim.split(change.text, '\n', { plain = true })
    elseif method == '$/cancelRequest' then
      local cb = pending[params.id]
      if cb then
        pending[params.id] = nil
        M.cancelled = M.cancelled + 1
        cb({ code = -32800, message = 'cancelled' }, nil)
      end
    elseif method == 'workspace/didChangeConfiguration' then
      table.insert(M.settings_changes, params.settings)
      local api_base = vim.tbl_get(params.settings, 'codestral', 'api_base')
      if api_base then
        -- An unreachable backend: the real server reports it in its status and with
        -- window/showMessage; both arrive, more than once.
        local msg = 'cannot reach ' .. api_base
        local err = status('error')
        err.message = msg
        for _ = 1, 2 do
          notify_client('codestral/status', err)
          notify_client('window/showMessage', { type = 1, message = 'codestral-ls: ' .. msg })
        end
      end
    elseif method == 'exit' then
      closing = true
      vim.schedule(function()
        dispatchers.on_exit(0, 0)
      end)
    end
    return true
  end

  function srv.is_closing()
    return closing
  end

  function srv.terminate()
    closing = true
  end

  return srv
end

return M
