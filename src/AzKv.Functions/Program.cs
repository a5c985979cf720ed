using AzKv.Server;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The AzKv front end on the Azure Functions isolated worker. ASP.NET Core integration: the host
// proxies each HTTP request to this process, and a function gets the real HttpContext.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddAzKvFrontEnd(builder.Configuration);
await builder.Build().RunAsync().ConfigureAwait(false);
