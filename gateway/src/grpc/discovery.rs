//! `DiscoveryService`: runners and profiles (SPEC §4), through `operations::discovery`.

use tonic::{Request, Response, Status};

use super::convert::{query_pairs, to_proto};
use super::proto::discovery_service_server::DiscoveryService;
use super::proto::{
    AvailableRunner, GetAvailableRunnerRequest, GetProfileRequest, ListAvailableRunnersRequest,
    ListAvailableRunnersResponse, ListProfilesRequest, ListProfilesResponse, ProfileSummary,
};
use super::{caller, status::to_status};
use crate::operations::{Platform, discovery};

pub struct Discovery {
    platform: Platform,
}

impl Discovery {
    pub fn new(platform: Platform) -> Discovery {
        Discovery { platform }
    }
}

#[tonic::async_trait]
impl DiscoveryService for Discovery {
    async fn list_available_runners(
        &self,
        request: Request<ListAvailableRunnersRequest>,
    ) -> Result<Response<ListAvailableRunnersResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let query = query_pairs(request.get_ref());
        let answer = discovery::list_runners(&self.platform, &caller, query)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn get_available_runner(
        &self,
        request: Request<GetAvailableRunnerRequest>,
    ) -> Result<Response<AvailableRunner>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let answer = discovery::get_runner(&self.platform, &caller, &request.get_ref().runner_id)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn list_profiles(
        &self,
        request: Request<ListProfilesRequest>,
    ) -> Result<Response<ListProfilesResponse>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let query = query_pairs(request.get_ref());
        let answer = discovery::list_profiles(&self.platform, &caller, query)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }

    async fn get_profile(
        &self,
        request: Request<GetProfileRequest>,
    ) -> Result<Response<ProfileSummary>, Status> {
        let caller = caller(&self.platform, &request).await?;
        let message = request.get_ref();
        let query = vec![("runnerId".to_owned(), message.runner_id.clone())];
        let answer = discovery::get_profile(&self.platform, &caller, &message.profile_name, query)
            .await
            .map_err(to_status)?;
        Ok(Response::new(to_proto(&answer)?))
    }
}
