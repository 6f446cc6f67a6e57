local status = require('codestral.status')

describe('status.format', function()
  it('is empty when the buffer has no server', function()
    eq('', status.format(nil, true, false))
  end)
  it('shows off, starting, loading with progress, latency', function()
    eq('codestral: off', status.format(nil, false, true))
    eq('codestral: starting', status.format(nil, true, true))
    eq('codestral: loading 40%', status.format({ state = 'loading', progress = 40 }, true, true))
    eq('codestral: loading', status.format({ state = 'loading' }, true, true))
    eq('codestral: ready 120ms', status.format({ state = 'ready', lastLatencyMs = 120 }, true, true))
    eq('codestral: error', status.format({ state = 'error' }, true, true))
  end)
end)

describe('status.update', function()
  before_each(function()
    status.shown = {}
    status.notify_enabled = true
  end)

  it('turns JSON null into nil', function()
    status.update({
      state = 'ready',
      backend = 'local',
      model = 'm',
      message = '',
      progress = vim.NIL,
      lastLatencyMs = vim.NIL,
    })
    eq(nil, status.last.progress)
    eq(nil, status.last.lastLatencyMs)
  end)

  it('notifies each distinct error once', function()
    local seen = {}
    local orig = vim.notify
    vim.notify = function(msg, level)
      table.insert(seen, { msg, level })
    end
    status.update({ state = 'error', message = 'backend unreachable' })
    status.update({ state = 'error', message = 'backend unreachable' })
    status.update({ state = 'error', message = 'bad key' })
    status.notify_once('codestral-ls: bad key', vim.log.levels.ERROR)
    vim.notify = orig
    eq(2, #seen)
    eq('codestral: backend unreachable', seen[1][1])
    eq(vim.log.levels.ERROR, seen[1][2])
  end)
end)

describe('status.describe', function()
  it('lists backend, model, latency and loading', function()
    local lines = status.describe(
      { state = 'loading', backend = 'local', model = 'qwen', message = 'loading model', progress = 10 },
      { enabled = true, path = 'native', attached = true }
    )
    local all = table.concat(lines, '\n')
    truthy(all:find('backend: local', 1, true), all)
    truthy(all:find('model: qwen', 1, true), all)
    truthy(all:find('model loading', 1, true), all)
    truthy(all:find('last latency: none yet', 1, true), all)
    truthy(all:find('native path', 1, true), all)
  end)
end)
